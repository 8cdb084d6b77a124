#!/usr/bin/env bash
# fetch-memory-test.sh — on Apache Kafka, `up`'s memory does not grow with the size of one fetch:
# over the same zstd-compressed input, streamrun's defaults (1 MiB fetches) peak well below a run
# with librdkafka's 50 MiB fetch.max.bytes, whose one response of 8 partitions decompresses far past
# the 8 MiB local queue; and a file that raises message.max.bytes still runs (librdkafka refuses a
# fetch.max.bytes below it, so the default follows).
#
# usage: fetch-memory-test.sh STREAMRUN [PYTHON3]; exits 77 (skipped) when Java or Maven is
# missing outside CI.
set -euo pipefail
STREAMRUN=$(realpath "${1:?usage: $0 STREAMRUN [PYTHON3]}")
PYTHON=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
KAFKA=$HERE/kafka.sh
export KAFKA_PYTHON=$PYTHON
WORK=$(mktemp -d)
N=100000

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

cleanup() {
    local st=$?
    if [ -f "$WORK/kafka/nodes" ]; then
        [ "$st" = 0 ] || tail -20 "$WORK"/kafka/node1/broker.log >&2 || true
        "$KAFKA" stop --dir "$WORK/kafka" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kt() {
    timeout 150 "$PYTHON" "$HERE/../kafkatool.py" "$@"
}

rc=0
addr=$("$KAFKA" start --dir "$WORK/kafka" --owner $$ --lifetime 600) || rc=$?
[ "$rc" != 77 ] || exit 77
[ "$rc" = 0 ] || fail "kafka.sh start exited with $rc"

# copy GROUP KAFKA_MAP: the phone pipeline on 8 partitions, in its own consumer group, with a
# deployment-level kafka: map (empty: none)
copy() {
    sed -e 's/{name: raw-data, partitions: 4}/{name: raw-data, partitions: 8}/' \
        -e "s/^\(    consumerGroup: \).*/\1$1/" "$ROOT/pipelines/phone-normalization.yaml" |
        awk -v kafka="$2" '{print} kafka != "" && /^  - name: data-normalization$/ {
            print "    kafka: " kafka }' >"$WORK/$1.yaml"
}
export TELEMETRY_FILE=$ROOT/pipelines/data/phone-telemetry.jsonl
copy defaults ""
kt create-topics "$addr" "$WORK/defaults.yaml"
kt load "$addr" raw-data "$TELEMETRY_FILE" "$N" # zstd, 1 MB batches

# peak GROUP KAFKA_MAP: runs data-normalization over the whole input; prints its peak RSS in MB
peak() {
    copy "$1" "$2"
    # no quarantine under AddressSanitizer: freed memory is reused, as without it
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 timeout 240 \
        /usr/bin/time -f '%M' -o "$WORK/$1.rss" "$STREAMRUN" up "$WORK/$1.yaml" \
        --only data-normalization --exit-at-end --broker "$addr" 2>"$WORK/$1.log" ||
        { cat "$WORK/$1.log" >&2; fail "up with kafka: {$2} failed"; }
    grep -q "data-normalization: $N in" "$WORK/$1.log" ||
        { cat "$WORK/$1.log" >&2; fail "up with kafka: {$2} did not read all $N inputs"; }
    echo $(($(tail -1 "$WORK/$1.rss") / 1024))
}
[ -x /usr/bin/time ] || fail "no /usr/bin/time: apt-get install -y time"
small=$(peak defaults "")
large=$(peak large '{fetch.max.bytes: 52428800}')
echo "peak RSS: ${small} MB with streamrun's defaults, ${large} MB with 50 MiB fetches"
[ $((large - small)) -ge 20 ] ||
    fail "the default fetches do not bound memory: ${small} MB against ${large} MB with 50 MiB"
big=$(peak bigmessages '{message.max.bytes: 3000000}')
echo "peak RSS: ${big} MB with message.max.bytes 3000000 (fetch.max.bytes follows it)"
echo "PASS"
