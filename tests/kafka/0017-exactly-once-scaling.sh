#!/usr/bin/env bash
# brokers: apache
# 0017 — members going 1 → 3 → 1 under load with processing: exactly-once: member 1 processes
# raw-data (8 partitions: a load, and a record every 20 ms on top until the members have come and
# gone); members 2 and 3 join while it does (the group rebalances: member 1
# commits its transaction on revocation); then member 2 stops with SIGTERM (it commits and
# leaves) and member 3 is killed with SIGKILL (its open transaction is aborted by the broker, its
# partitions move to member 1 once its session expires). Member 1 goes on alone, then stops
# (SIGTERM), and a last run with --exit-at-end processes what is left. The output, read with
# read_committed, is exactly that of a clean `streamrun run`; the summaries of the members that
# stopped cleanly and of the last run add up to no more than the inputs (member 3's committed
# records have no summary).
# Apache Kafka only: the embedded broker does not honour transactions.
source "$(dirname "$0")/lib.sh" "$@"
N=${N:-30000}

phone8 # the phone pipeline with raw-data on 8 partitions
eos_phone "$WORK/phone-8.yaml" "$WORK/scale.yaml"

start_broker "$WORK/scale.yaml"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --compression zstd
# a record every 20 ms on top of the load, until the members have come and gone: every member has
# records to process whenever it joins, however fast the first one got through the load
trickle_from "$N"

# assigned LOG: waits until LOG reports an assignment of at least one partition
assigned() {
    for _ in $(seq 600); do
        grep -q ': assigned [1-9]' "$WORK/$1.log" && return 0
        sleep 0.05
    done
    fail "$1 got no partitions in 30 s"
}

up_bg m1 170 "$WORK/scale.yaml" --only data-normalization
m1=$UP_PID
assigned m1
sleep 1
echo "$(date +%T) 1 → 3"
up_bg m2 170 "$WORK/scale.yaml" --only data-normalization
m2=$UP_PID
up_bg m3 170 "$WORK/scale.yaml" --only data-normalization
m3=$UP_PID
assigned m2
assigned m3
sleep 3
echo "$(date +%T) 3 → 1: SIGTERM to member 2, SIGKILL to member 3"
kill -TERM "$m2"
pid3=$(pgrep -P "$m3") || fail "member 3 is not running"
kill -KILL "$pid3"
{ wait "$m3" || true; } 2>/dev/null # not the shell's "Killed" line
rc=0
wait "$m2" || rc=$?
[ "$rc" = 0 ] || fail "member 2 exited with status $rc after SIGTERM"
# member 1 alone: it takes member 3's partitions once that one's session has expired
sleep 9
kill -TERM "$m1"
rc=0
wait "$m1" || rc=$?
[ "$rc" = 0 ] || fail "member 1 exited with status $rc after SIGTERM"
broker_alive
grep -c ': assigned ' "$WORK/m1.log" | grep -qv '^1$' || fail "member 1 was never rebalanced"
touch "$WORK/stop"
wait "$TRICKLE" || fail "the trickle producer failed"
T=$(cat "$WORK/trickled")
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" $((N + T)) "$WORK/expected.jsonl"
up rest 120 "$WORK/scale.yaml" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the last run exited with status $RC"
in1=$(count_in m1 data-normalization) in2=$(count_in m2 data-normalization)
in_rest=$(count_in rest data-normalization)
echo "records counted: member 1 $in1, member 2 $in2, last run $in_rest (member 3 killed)" \
    "of $((N + T)) ($N loaded, $T trickled)"
[ "$in1" -gt 0 ] && [ "$in2" -gt 0 ] || fail "members 1 and 2 must both have committed records"
[ $((in1 + in2 + in_rest)) -le $((N + T)) ] || fail "records were counted twice"

kt read "$ADDR" table-data "$WORK/out.jsonl" --timeout 120
kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --exact
echo "PASS"
