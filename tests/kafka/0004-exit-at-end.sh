#!/usr/bin/env bash
# 0004 — `up --exit-at-end`: (a) with an empty input topic it exits 0 soon after the group join,
# having read nothing; (b) with N inputs it exits 0 after consuming all of them (outputs exact);
# (c) while a producer keeps adding a record every 20 ms it still exits 0 (the end offsets are
# the ones its input had at the start, so records produced after that are not waited for),
# having read at least the records that were there when it started; (d) the next run reads
# exactly the records (c) left, and table-data then holds exactly the outputs of every input.
source "$(dirname "$0")/lib.sh" "$@"
N=500 PRESENT=50 PROMPT=15

start_broker "$PHONE"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"

# (a) empty input
up empty 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "(a) exited with status $RC on an empty input"
expect_summary empty data-normalization 0 0 0 0 0
awk -v s="$SECS" -v p="$PROMPT" 'BEGIN {exit !(s < p)}' ||
    fail "(a) took $SECS s on an empty input (limit $PROMPT s: a group join and the end offsets)"
echo "(a) empty input: exit 0 after $SECS s"

# (b) N inputs
kt load "$ADDR" raw-data "$TELEMETRY" "$N"
up full 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "(b) exited with status $RC"
[ "$(count_in full data-normalization)" = "$N" ] ||
    fail "(b) read $(count_in full data-normalization) records, expected $N"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$N" "$WORK/expected-b.jsonl"
kt read "$ADDR" table-data "$WORK/out-b.jsonl"
kt compare "$WORK/expected-b.jsonl" "$WORK/out-b.jsonl" --exact
echo "(b) $N inputs: exit 0 after $SECS s, $(summary full data-normalization)"

# (c) a producer adds a record every 20 ms before, during and after the run: the run must end
# anyway, within the same limit as (a)
timeout 120 "$PYTHON" "$HERE/kafkatool.py" trickle "$ADDR" raw-data "$TELEMETRY" --first "$N" \
    --stop-file "$WORK/stop" --count-file "$WORK/trickled" --limit 100 2>"$WORK/trickle.log" &
trickle=$!
kt wait "$ADDR" raw-data $((N + PRESENT)) --timeout 30
up moving 60 "$PHONE" --only data-normalization --exit-at-end
touch "$WORK/stop"
[ "$RC" = 0 ] || fail "(c) exited with status $RC"
awk -v s="$SECS" -v p="$PROMPT" 'BEGIN {exit !(s < p)}' ||
    fail "(c) took $SECS s while the input grew (limit $PROMPT s)"
wait "$trickle" || fail "the trickle producer failed"
T=$(cat "$WORK/trickled")
in_c=$(count_in moving data-normalization)
[ "$in_c" -ge "$PRESENT" ] || fail "(c) read $in_c records, but at least $PRESENT were there at its start"
[ "$in_c" -le "$T" ] || fail "(c) read $in_c records, but only $T were produced after (b)"
echo "(c) a growing input: exit 0 after $SECS s having read $in_c of the $T records produced" \
    "before, during and after it"

# (d) the rest
up rest 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "(d) exited with status $RC"
[ "$(count_in rest data-normalization)" = $((T - in_c)) ] ||
    fail "(d) read $(count_in rest data-normalization) records, expected $((T - in_c))"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" $((N + T)) "$WORK/expected-d.jsonl"
kt read "$ADDR" table-data "$WORK/out-d.jsonl"
kt compare "$WORK/expected-d.jsonl" "$WORK/out-d.jsonl" --exact
echo "(d) the next run read the other $((T - in_c))"
echo "PASS"
