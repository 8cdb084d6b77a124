#!/usr/bin/env bash
# 0012 — records lost before they were read are a loud, counted error: `up` commits its offsets
# over a few inputs, then so much uncompressed data follows that the broker drops the oldest
# batches of every partition past the committed offsets — the embedded one by its 5 MiB cap,
# Apache Kafka by retention (raw-data gets retention.bytes 1 MiB here; the broker's 1 MiB
# segments and 1 s retention check, from kafka.sh, make it delete them within seconds). The next run
# meets OFFSET_OUT_OF_RANGE, which librdkafka only logs as it resets to the earliest offset:
# `up` must say ERROR for each such partition, count the resets on its summary, go on, and read
# exactly what the broker still holds.
source "$(dirname "$0")/lib.sh" "$@"
N=40 FLOOD=16000

start_broker "$PHONE"
kt load "$ADDR" raw-data "$TELEMETRY" "$N"
up first 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
[ "$(count_in first data-normalization)" = "$N" ] || fail "the first run did not read $N records"

[ "$BROKER_KIND" != apache ] || kt topic-config "$ADDR" raw-data retention.bytes=1048576
kt load "$ADDR" raw-data "$TELEMETRY" "$FLOOD" --first "$N" --compression none --allow-loss
[ "$BROKER_KIND" != apache ] || kt wait-trimmed "$ADDR" raw-data "$N" --timeout 60
wm=$(kt watermarks "$ADDR" raw-data)
echo "raw-data after the flood: $wm"
left=$("$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["total"])' "$wm")
lost=$("$PYTHON" -c 'import json, sys; print(sum(json.loads(sys.argv[1])["low"]))' "$wm")
[ "$lost" -gt "$N" ] || fail "the broker dropped only $lost records: the test needs more than $N"

up second 90 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the run after the loss exited with status $RC"
errors=$(grep -c "ERROR: records were lost before they could be read" "$WORK/second.log" || true)
[ "$errors" -ge 1 ] || fail "no error said that records were lost"
line=$(summary second data-normalization)
resets=$(echo "$line" | sed -nE 's/.* ([0-9]+) OFFSET_OUT_OF_RANGE resets.*/\1/p')
[ -n "$resets" ] && [ "$resets" = "$errors" ] ||
    fail "the summary counts '${resets:-no}' resets for $errors errors: $line"
[ "$(count_in second data-normalization)" = "$left" ] ||
    fail "the run read $(count_in second data-normalization) records; the broker holds $left"
echo "$errors partition(s) reset with an ERROR; summary: $line"
echo "PASS"
