#!/usr/bin/env bash
# 0005 — SIGTERM mid-stream, then a restart: N inputs (zstd, so that the embedded broker keeps
# them all: low watermarks 0), `up` without --exit-at-end, SIGTERM once table-data holds some
# output: exit status 0 with its summary; then `up --exit-at-end` reads the rest. Every input's
# outputs must be in table-data (nothing lost); duplicates are counted and printed (at-least-once
# allows them).
source "$(dirname "$0")/lib.sh" "$@"
N=${N:-30000}

start_broker "$PHONE"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$N" "$WORK/expected.jsonl"
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --compression zstd

up_bg first 120 "$PHONE" --only data-normalization
kt wait "$ADDR" table-data 1 --timeout 60
kill -TERM "$UP_PID"
rc=0
wait "$UP_PID" || rc=$?
[ "$rc" = 0 ] || fail "after SIGTERM, streamrun up exited with status $rc"
broker_alive
first=$(summary first data-normalization)
grep -qE '^total: [0-9]+ in \([0-9]+ delivered, [0-9]+ filtered, 0 dead-lettered\), [0-9]+ out, [0-9.]+ s$' \
    "$WORK/first.log" ||
    fail "no 'total: ...' summary line after SIGTERM"
x=$(count_in first data-normalization)
echo "stopped by SIGTERM: exit 0, $first"
[ "$x" -gt 0 ] || fail "the first run read nothing before SIGTERM"
[ "$x" -lt "$N" ] || fail "the first run read all $N inputs before SIGTERM: not mid-stream"

up second 120 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the restart exited with status $RC"
z=$(count_in second data-normalization)
echo "restart: exit 0, $(summary second data-normalization)"
echo "inputs read: $x + $z = $((x + z)) of $N ($((x + z - N)) read twice)"
[ $((x + z)) -ge "$N" ] || fail "only $((x + z)) of $N inputs were read"

kt read "$ADDR" table-data "$WORK/out.jsonl" --timeout 120
kt compare "$WORK/expected.jsonl" "$WORK/out.jsonl" --no-loss
echo "PASS"
