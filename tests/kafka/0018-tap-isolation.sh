#!/usr/bin/env bash
# brokers: apache
# 0018 — `tap` reads committed records only, unless --read-uncommitted: an exactly-once `up` with
# a long commit interval holds its outputs in an open transaction; tap shows none of them, tap
# --read-uncommitted shows them; once `up` stops (SIGTERM: it commits), tap shows them all.
# Apache Kafka only: the embedded broker does not honour transactions.
source "$(dirname "$0")/lib.sh" "$@"
N=200

sed -e 's/^    consumerGroup: data-normalisation-v1$/&\n    processing: exactly-once/' "$PHONE" \
    >"$WORK/tap.yaml"
grep -q '^    processing: exactly-once$' "$WORK/tap.yaml" || fail "cannot make the test file"
export TELEMETRY_FILE=$TELEMETRY

start_broker "$WORK/tap.yaml"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
rows=$(wc -l <"$WORK/ref/table-data.jsonl")
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --compression zstd

up_bg up 120 "$WORK/tap.yaml" --only data-normalization --commit-interval 10m
kt wait "$ADDR" table-data "$rows" --timeout 60 --isolation read_uncommitted

# tap ARGS...: `streamrun tap table-data --from-beginning ARGS` for at most 5 s; sets GOT
tap() {
    timeout 5 "$STREAMRUN" tap table-data --broker "$ADDR" --from-beginning "$@" \
        >"$WORK/tap.jsonl" 2>"$WORK/tap.log" || true
    GOT=$(wc -l <"$WORK/tap.jsonl")
}
tap
echo "open transaction: tap shows $GOT records"
[ "$GOT" = 0 ] || fail "tap showed $GOT records of an open transaction"
tap --read-uncommitted --count "$rows"
echo "open transaction: tap --read-uncommitted shows $GOT records"
[ "$GOT" = "$rows" ] || fail "tap --read-uncommitted showed $GOT records, not $rows"

kill -TERM "$UP_PID"
rc=0
wait "$UP_PID" || rc=$?
[ "$rc" = 0 ] || fail "up exited with status $rc after SIGTERM"
tap --count "$rows"
echo "committed: tap shows $GOT records"
[ "$GOT" = "$rows" ] || fail "tap showed $GOT committed records, not $rows"
echo "PASS"
