#!/usr/bin/env bash
# brokers: apache
# 0016 — a zombie under processing: exactly-once. Member A processes with a long commit interval,
# so it holds an open transaction with outputs in it; it is stopped (SIGSTOP) past its session
# timeout; member B takes over the partitions, processes every input and commits (--exit-at-end);
# then A is continued and asked to stop (SIGCONT, SIGTERM), so it tries to commit at once with the
# group generation it had. The group coordinator refuses those offsets (A is no longer a member):
# A's transaction is aborted, and the output, read with read_committed, is exactly that of a
# clean `streamrun run`: nothing duplicated, nothing lost; A commits (and counts) nothing, B all.
# Apache Kafka only: the embedded broker does not honour transactions.
source "$(dirname "$0")/lib.sh" "$@"
N=${N:-20000}

# transaction.timeout.ms 120 s: the broker must not abort A's transaction by itself before A
# tries to commit it (that path ends in a fenced producer instead, as a restart on A's id does)
eos_phone "$PHONE" "$WORK/zombie.yaml" "transaction.timeout.ms: 120000"
export TELEMETRY_FILE=$TELEMETRY

start_broker "$WORK/zombie.yaml"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$N" "$WORK/expected.jsonl"
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --compression zstd

up_bg a 170 "$WORK/zombie.yaml" --only data-normalization --commit-interval 10m
TPID_A=$UP_PID
# outputs in A's open transaction: written, not committed
kt wait "$ADDR" table-data 1 --timeout 60 --isolation read_uncommitted
PID_A=$(pgrep -P "$TPID_A") || fail "member a is not running"
kill -STOP "$PID_A"
echo "$(date +%T) member a stopped with its transaction open"

up b 150 "$WORK/zombie.yaml" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "member b exited with status $RC"
grep -q ': assigned 4 partitions' "$WORK/b.log" || fail "member b did not take all 4 partitions"
echo "$(date +%T) member b: $(summary b data-normalization)"
id_a=$(sed -n 's/.*exactly-once, transactional.id //p' "$WORK/a.log")
id_b=$(sed -n 's/.*exactly-once, transactional.id //p' "$WORK/b.log")
echo "transactional.id: a $id_a, b $id_b"
[ -n "$id_a" ] && [ -n "$id_b" ] && [ "$id_a" != "$id_b" ] ||
    fail "members alive together must have transactional.ids of their own"

kill -CONT "$PID_A"
kill -TERM "$PID_A"
rc=0
wait "$TPID_A" || rc=$?
broker_alive
echo "member a continued and stopped: exit $rc"
grep 'transaction aborted\|fenced' "$WORK/a.log" || fail "member a's transaction was not refused"
! grep -q ': committed\|^total:.* [1-9][0-9]* out' "$WORK/a.log" || fail "member a committed outputs"
in_a=0
[ -z "$(summary a data-normalization)" ] || in_a=$(count_in a data-normalization)
in_b=$(count_in b data-normalization)
echo "records counted: a $in_a + b $in_b of $N"
[ "$in_a" = 0 ] && [ "$in_b" = "$N" ] || fail "a should count 0 and b $N: each record once"

kt read "$ADDR" table-data "$WORK/out.jsonl" --timeout 120
kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --exact
echo "PASS"
