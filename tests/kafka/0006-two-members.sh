#!/usr/bin/env bash
# 0006 — two members of one consumer group: two `up --only data-normalization --exit-at-end`
# processes over raw-data with 8 partitions, started together after the inputs are loaded.
# Both join the group's first generation (the embedded broker collects the members of a new
# group for 3 s before it assigns), so each gets 4 partitions and snapshots their end offsets;
# when the first one finishes and leaves, the other is handed partitions that are already
# committed to their end. So normally no partition moves mid-flight, and the union of their
# outputs must equal the single-process expected multiset exactly; both must have read a share.
# One race remains: the first one leaves while the other is still processing, and the other
# learns of the rebalance (by a heartbeat) before it is done; the embedded broker refuses the
# commit made on revocation, so the other reads part of its partitions again. Only then (its log
# says so, and the members read more than N in all) duplicates are allowed, counted and printed;
# nothing may be lost either way. Apache Kafka is given the same 3 s for a new group
# (group.initial.rebalance.delay.ms, 0 elsewhere in the tests): without it the first member to
# join takes all 8 partitions and may finish before the other joins.
source "$(dirname "$0")/lib.sh" "$@"
N=${N:-4000}

phone8 # the phone pipeline with raw-data on 8 partitions

start_broker "$WORK/phone-8.yaml" --set group.initial.rebalance.delay.ms=3000
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$N" "$WORK/expected.jsonl"
kt load "$ADDR" raw-data "$TELEMETRY" "$N"
[ "$(kt watermarks "$ADDR" raw-data | "$PYTHON" -c 'import json,sys; h=json.load(sys.stdin)["high"]; print(sum(1 for x in h if x > 0))')" = 8 ] ||
    fail "the inputs do not cover all 8 partitions"

up_bg a 90 "$WORK/phone-8.yaml" --only data-normalization --exit-at-end
pid_a=$UP_PID
up_bg b 90 "$WORK/phone-8.yaml" --only data-normalization --exit-at-end
pid_b=$UP_PID
wait_members "$pid_a" "$pid_b"
in_a=$IN_A in_b=$IN_B
if [ "$in_a" = 0 ] || [ "$in_b" = 0 ]; then
    fail "one member read nothing ($in_a and $in_b): they did not share the partitions"
fi
kt read "$ADDR" table-data "$WORK/out.jsonl"
if [ $((in_a + in_b)) = "$N" ]; then
    kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --exact
else
    [ $((in_a + in_b)) -gt "$N" ] ||
        fail "the members read $in_a + $in_b = $((in_a + in_b)) records of $N"
    grep -h "offsets of the revoked partitions were not committed" "$WORK/a.log" "$WORK/b.log" ||
        fail "the members read $((in_a + in_b)) records of $N, with no rebalance mid-flight"
    echo "a rebalance happened mid-flight: $((in_a + in_b - N)) records read twice"
    kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --no-loss
fi
echo "PASS"
