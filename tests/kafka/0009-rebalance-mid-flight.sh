#!/usr/bin/env bash
# 0009 — a member joins mid-flight: `up --only data-normalization` (member a) is processing a
# steady stream of inputs on raw-data (8 partitions) when a second member (b) joins the group,
# so a's partitions are revoked and split while records are in flight. The group must settle
# (every input's output arrives within the limit, with the producer stopped), both members must
# get a share and exit 0 on SIGTERM, and after a final `up --exit-at-end` for any leftovers
# table-data must hold every input's outputs (nothing lost; duplicates are counted and printed:
# at-least-once allows them, and the embedded broker refuses the commit made on revocation).
source "$(dirname "$0")/lib.sh" "$@"

phone8 # the phone pipeline with raw-data on 8 partitions

start_broker "$WORK/phone-8.yaml"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"

up_bg a 90 "$WORK/phone-8.yaml" --only data-normalization
pid_a=$UP_PID
timeout 90 "$PYTHON" "$HERE/kafkatool.py" trickle "$ADDR" raw-data "$TELEMETRY" --interval 0.005 \
    --stop-file "$WORK/stop" --count-file "$WORK/trickled" --limit 60 2>"$WORK/trickle.log" &
trickle=$!
kt wait "$ADDR" table-data 20 --timeout 30 # a is assigned and processing
up_bg b 90 "$WORK/phone-8.yaml" --only data-normalization
pid_b=$UP_PID
# b's join: the group rebalances (the embedded broker waits up to 5 s for the rejoin); wait
# until b reports its assignment
for _ in $(seq 400); do
    grep -q "assigned [1-9]" "$WORK/b.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "assigned [1-9]" "$WORK/b.log" || fail "member b was not assigned partitions within 40 s"
sleep 1 # let b process some of the stream
touch "$WORK/stop"
wait "$trickle" || fail "the trickle producer failed"
T=$(cat "$WORK/trickled")
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$T" "$WORK/expected.jsonl"
rows=$(wc -l <"$WORK/expected.jsonl")
echo "$T inputs produced, $rows output rows expected"
kt wait "$ADDR" table-data "$rows" --timeout 30 || fail "the group did not settle"

kill -TERM "$pid_a" "$pid_b"
wait_members "$pid_a" "$pid_b"
in_a=$IN_A in_b=$IN_B
[ "$in_b" -gt 0 ] || fail "member b read nothing: it never got a share"

up rest 60 "$WORK/phone-8.yaml" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the final run exited with status $RC"
echo "final run: $(summary rest data-normalization)"
echo "inputs read: $in_a + $in_b + $(count_in rest data-normalization) for $T inputs"
kt read "$ADDR" table-data "$WORK/out.jsonl"
kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --no-loss
echo "PASS"
