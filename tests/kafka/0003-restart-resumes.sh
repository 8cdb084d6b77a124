#!/usr/bin/env bash
# 0003 — a restart resumes from the committed offsets: `up --exit-at-end` over N inputs, then M
# more inputs, then `up --exit-at-end` again: the second run reads exactly M records ("M in"),
# and table-data accumulates exactly the outputs of all N + M inputs (nothing lost, nothing twice).
# It runs with --workers 1: the consumer thread processes the records itself. The second run adds
# a file-wide kafka: block, whose properties must reach only the clients they are for.
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

# the second run's file adds librdkafka properties: one for consumers only (a 1 MiB fetch queue,
# which the run must keep refilling), one for producers only; each must reach only its client
# (librdkafka warns, CONFWARN, about a property given to the wrong kind)
kt load "$ADDR" raw-data "$TELEMETRY" "$M" --first "$N"
sed 's/^topics:/kafka: {queued.max.messages.kbytes: 1024, linger.ms: 20}\ntopics:/' "$PHONE" \
    >"$WORK/phone-kafka.yaml"
sed -i "s|data/phone-telemetry.jsonl|$(dirname "$PHONE")/data/phone-telemetry.jsonl|" \
    "$WORK/phone-kafka.yaml"
grep -q "^kafka: {queued.max.messages.kbytes" "$WORK/phone-kafka.yaml" || fail "no kafka: block added"
up run2 60 "$WORK/phone-kafka.yaml" --only data-normalization --exit-at-end --workers 1
! grep -n "CONFWARN" "$WORK/run2.log" || fail "a kafka: property went to the wrong kind of client"
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
[ "$(count_in run2 data-normalization)" = "$M" ] ||
    fail "the second run read $(count_in run2 data-normalization) records, expected $M"
echo "second run: $(summary run2 data-normalization)"
kt read "$ADDR" table-data "$WORK/out-2.jsonl"
kt compare "$WORK/expected-2.jsonl" "$WORK/out-2.jsonl" --exact
echo "PASS"
