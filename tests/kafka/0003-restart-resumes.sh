#!/usr/bin/env bash
# 0003 — a restart resumes from the committed offsets: `up --exit-at-end` over N inputs, then M
# more inputs, then `up --exit-at-end` again: the second run reads exactly M records ("M in"),
# and table-data accumulates exactly the outputs of all N + M inputs (nothing lost, nothing twice).
# It runs with --workers 1: the consumer thread processes the records itself.
source "$(dirname "$0")/lib.sh" "$@"
N=600 M=400

start_broker "$PHONE"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$N" "$WORK/expected-1.jsonl"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" $((N + M)) "$WORK/expected-2.jsonl"

kt load "$ADDR" raw-data "$TELEMETRY" "$N"
up run1 60 "$PHONE" --only data-normalization --exit-at-end --workers 1
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
[ "$(count_in run1 data-normalization)" = "$N" ] ||
    fail "the first run read $(count_in run1 data-normalization) records, expected $N"
echo "first run: $(summary run1 data-normalization)"
kt read "$ADDR" table-data "$WORK/out-1.jsonl"
kt compare "$WORK/expected-1.jsonl" "$WORK/out-1.jsonl" --exact

kt load "$ADDR" raw-data "$TELEMETRY" "$M" --first "$N"
up run2 60 "$PHONE" --only data-normalization --exit-at-end --workers 1
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
[ "$(count_in run2 data-normalization)" = "$M" ] ||
    fail "the second run read $(count_in run2 data-normalization) records, expected $M"
echo "second run: $(summary run2 data-normalization)"
kt read "$ADDR" table-data "$WORK/out-2.jsonl"
kt compare "$WORK/expected-2.jsonl" "$WORK/out-2.jsonl" --exact
echo "PASS"
