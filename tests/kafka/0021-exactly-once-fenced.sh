#!/usr/bin/env bash
# brokers: apache
# 0021 — an exactly-once member whose producer is fenced while it runs, twice: another producer
# initialises the member's transactional.id (as a coordinator that moved to another broker does
# when it bumps the epoch: 0019's exactly-once pass), while the member is stopped for a moment
# (SIGSTOP: otherwise the two would keep fencing each other, as two live members with one id do,
# and the member stops after 5 fences in a row). The member's open transaction is aborted by the
# broker; the member must not stop: it gives up that transaction, takes the id again with a
# new producer, goes back to the group's committed offsets and goes on. Inputs keep arriving (a
# record every 20 ms on top of a load) through both fences; the member is then stopped (SIGTERM)
# and a last run with --exit-at-end processes what is left. The output, read with
# read_committed, is exactly that of a clean `streamrun run`, and the two summaries count each
# input once.
# Apache Kafka only: the embedded broker does not honour transactions.
source "$(dirname "$0")/lib.sh" "$@"
N=${N:-20000}

eos_phone "$PHONE" "$WORK/fenced.yaml"
export TELEMETRY_FILE=$TELEMETRY

start_broker "$WORK/fenced.yaml"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --compression zstd
trickle_from "$N"

up_bg a 170 "$WORK/fenced.yaml" --only data-normalization --commit-interval 500ms
a=$UP_PID
kt wait "$ADDR" table-data 1 --timeout 60 >/dev/null # a transaction committed
id=$(sed -n 's/.*exactly-once, transactional.id //p' "$WORK/a.log")
[ -n "$id" ] || fail "member a printed no transactional.id"
pid=$(pgrep -P "$a") || fail "member a is not running"
for k in 1 2; do
    kill -STOP "$pid"
    kt fence "$ADDR" "$id"
    kill -CONT "$pid"
    echo "$(date +%T) fence $k"
    for _ in $(seq 300); do
        [ "$(grep -c 'producer was fenced' "$WORK/a.log")" -ge "$k" ] && break
        kill -0 "$a" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$a" 2>/dev/null || {
        rc=0
        wait "$a" || rc=$?
        cat "$WORK/a.log" >&2
        fail "member a stopped (exit $rc) after fence $k"
    }
    [ "$(grep -c 'producer was fenced' "$WORK/a.log")" -ge "$k" ] ||
        fail "member a did not notice fence $k in 30 s"
    sleep 3 # it commits again with its new producer
done
kill -TERM "$a"
rc=0
wait "$a" || rc=$?
[ "$rc" = 0 ] || fail "member a exited with status $rc after SIGTERM"
grep 'producer was fenced\|committed offsets\|transaction aborted' "$WORK/a.log"
touch "$WORK/stop"
wait "$TRICKLE" || fail "the trickle producer failed"
T=$(cat "$WORK/trickled")
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" $((N + T)) "$WORK/expected.jsonl"
up rest 120 "$WORK/fenced.yaml" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the last run exited with status $RC"
in_a=$(count_in a data-normalization) in_rest=$(count_in rest data-normalization)
echo "records counted: member a $in_a, last run $in_rest of $((N + T)) ($N loaded, $T trickled)"
[ $((in_a + in_rest)) = $((N + T)) ] || fail "each input must be counted once"
kt read "$ADDR" table-data "$WORK/out.jsonl" --timeout 120
kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --exact
echo "PASS"
