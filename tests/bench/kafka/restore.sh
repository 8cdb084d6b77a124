#!/usr/bin/env bash
# State restore benchmark: how fast `streamrun up` rebuilds a store of N keys (default 1,000,000)
# from its changelog, and the memory it takes.
#
# usage: tests/bench/kafka/restore.sh [--broker embedded|apache] [N]
#   --broker apache (default): a one-node Apache Kafka started by tests/kafka/apache/kafka.sh
#            (Java and Maven, or its cache; stopped at the end), with 256 MiB segments;
#   --broker embedded: one `streamrun broker` process (librdkafka's mock cluster), which keeps at
#            most 5 MiB per partition: the topics get PARTITIONS (default 32) partitions so that
#            the changelog fits, and the restore refuses (exit 3) when it does not.
# needs: build/streamrun (cmake --preset release && cmake --build --preset release), GNU time
#        (apt-get install -y time), /usr/bin/python3 with confluent_kafka
#        (apt-get install -y python3-confluent-kafka).
# env:   STREAMRUN (build/streamrun), PYTHON (/usr/bin/python3), PARTITIONS (8 on Apache Kafka,
#        32 on the embedded broker), KEEP=1 keeps the work directory.
#
# What it does, all through `streamrun up` (no record is written in the changelog's format by
# anything but streamrun itself):
#   1. loads N input records {"v": 1}, keyed k0000000 .. k(N-1), into `keys`;
#   2. fill: `up --exit-at-end` runs an aggregate {count: count(), sum: sum(v)} per key over them:
#      its changelog gets one record per key (changes coalesce within a commit interval);
#   3. loads CHECK (1000) more records, for keys k0000000 .. k0000999, with v = 2;
#   4. restore: `up --exit-at-end` again, under /usr/bin/time -v: it restores every partition's
#      store before it processes the CHECK records. Reported: the records and seconds restored
#      (its restore log, summed over the partitions: the restores run one after another), the
#      keys and state bytes the stores hold after it (bytes per key), the process's peak RSS, and
#      its wall time;
#   5. checks the restored state is right: each of the CHECK records leaves with count 2 and
#      sum 3 (its key's totals continued from the restored ones).
# Exit status 0 when the state was restored whole and right (the 5 s target is reported, not
# enforced: compare numbers only on an idle machine).
set -euo pipefail
cd "$(dirname "$0")/../../.."

broker_kind=apache
while [ $# -gt 0 ]; do
    case $1 in
    --broker)
        [ $# -ge 2 ] || { echo "restore.sh: --broker takes embedded or apache" >&2; exit 1; }
        broker_kind=$2
        shift 2
        ;;
    --broker=*) broker_kind=${1#--broker=}; shift ;;
    -*)
        echo "restore.sh: unknown option '$1'; usage: restore.sh [--broker embedded|apache] [N]" >&2
        exit 1
        ;;
    *) break ;;
    esac
done
n=${1:-1000000}
check=1000
streamrun=${STREAMRUN:-build/streamrun}
python=${PYTHON:-/usr/bin/python3}
if [ "$broker_kind" = embedded ]; then partitions=${PARTITIONS:-32}; else partitions=${PARTITIONS:-8}; fi
kafka_sh=tests/kafka/apache/kafka.sh

fail() {
    echo "restore.sh: $*" >&2
    exit 1
}
case $broker_kind in embedded | apache) ;; *) fail "--broker takes embedded or apache, not '$broker_kind'" ;; esac
[[ "$n" =~ ^[1-9][0-9]*$ ]] && [ "$n" -ge "$check" ] || fail "N must be an integer >= $check, not '$n'"
[[ "$partitions" =~ ^[1-9][0-9]*$ ]] || fail "PARTITIONS must be a positive integer"
[ -x "$streamrun" ] ||
    fail "no $streamrun: build it first (cmake --preset release && cmake --build --preset release)"
[ -x /usr/bin/time ] || fail "no /usr/bin/time: apt-get install -y time"
"$python" -c 'import confluent_kafka' 2>/dev/null ||
    fail "$python cannot import confluent_kafka: apt-get install -y python3-confluent-kafka"

work=$(mktemp -d)
broker_pid=
cleanup() {
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    if [ "$broker_kind" = apache ] && [ -d "$work/kafka" ]; then
        "$kafka_sh" stop --dir "$work/kafka" --keep >/dev/null 2>&1 || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

group=restore-bench-$$
changelog=$group-counts-changelog
cat >"$work/restore.yaml" <<EOF
metadata: {name: restore-bench}
topics:
  - {name: keys, partitions: $partitions}
  - {name: totals, partitions: $partitions}
deployments:
  - name: counts
    input: keys
    consumerGroup: $group
    pipeline: [{aggregate: {fields: {count: count(), sum: sum(v)}, store: counts}}]
    output: totals
EOF
"$streamrun" validate "$work/restore.yaml" >/dev/null 2>"$work/validate.log" ||
    fail "the benchmark's pipeline is not valid: $(cat "$work/validate.log")"

if [ "$broker_kind" = embedded ]; then
    "$streamrun" broker "$work/restore.yaml" --address-file "$work/addr" 2>"$work/broker.log" &
    broker_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/addr" ] && break
        kill -0 "$broker_pid" 2>/dev/null || fail "the broker did not start: $(cat "$work/broker.log")"
        sleep 0.1
    done
    [ -s "$work/addr" ] || fail "the broker wrote no address in 10 s"
    addr=$(head -1 "$work/addr")
    echo "broker: embedded (librdkafka mock cluster) at $addr"
else
    [ -x "$kafka_sh" ] || fail "no $kafka_sh"
    addr=$("$kafka_sh" start --dir "$work/kafka" --owner $$ --set log.segment.bytes=268435456 \
        2>"$work/kafka.err") || fail "Apache Kafka did not start: $(tail -5 "$work/kafka.err")"
    "$python" tests/kafka/kafkatool.py create-topics "$addr" "$work/restore.yaml" >/dev/null
    echo "broker: Apache Kafka $(basename "$(ls -d ~/.cache/streamrun/kafka-* 2>/dev/null |
        tail -1)" 2>/dev/null) at $addr (one KRaft node)"
fi

# produce FIRST COUNT V: records {"v": V} keyed k<FIRST> .. k<FIRST+COUNT-1> into keys
produce() {
    "$python" - "$addr" "$@" <<'EOF' || fail "cannot load the input"
import sys
from confluent_kafka import Producer
addr, first, count, v = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
p = Producer({"bootstrap.servers": addr, "linger.ms": 20, "compression.codec": "lz4",
              "queue.buffering.max.messages": 1000000, "batch.num.messages": 10000})
failed = []
def done(err, msg):
    if err:
        failed.append(err)
value = ('{"v": %s}' % v).encode()
for i in range(first, first + count):
    while True:
        try:
            p.produce("keys", key=b"k%07d" % i, value=value, on_delivery=done)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
if p.flush(120) or failed:
    sys.exit("not delivered: %s" % (failed[:3] or "timeout"))
EOF
}

# watermarks TOPIC: "LOW HIGH" summed over TOPIC's partitions
watermarks() {
    "$python" tests/kafka/kafkatool.py watermarks "$addr" "$1" |
        "$python" -c 'import json, sys; w = json.load(sys.stdin); print(sum(w["low"]), sum(w["high"]))'
}

t0=$(date +%s.%N)
produce 0 "$n" 1
echo "input: $n records, keys k0000000 .. k$(printf %07d $((n - 1))), keys:$partitions" \
    "(loaded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s)"

echo
echo "== fill: streamrun up --exit-at-end (aggregate per key, changelog $changelog)"
/usr/bin/time -v -o "$work/fill.time" "$streamrun" up "$work/restore.yaml" --exit-at-end \
    --broker "$addr" 2>"$work/fill.log" || fail "the fill run failed: $(tail -5 "$work/fill.log")"
grep -E '^counts: ' "$work/fill.log" | sed 's/^/  /'
read -r low high <<<"$(watermarks "$changelog")"
echo "  changelog: $((high - low)) records (offsets $low .. $high summed over $partitions partitions)"
[ "$low" = 0 ] || fail "the changelog lost its start (low watermarks sum $low): nothing measured"

# the mean key and value sizes of the changelog's records (the first 1000 of partition 0)
read -r klen vlen <<<"$("$python" - "$addr" "$changelog" <<'EOF'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "restore-bench-sizes",
              "enable.auto.commit": False})
c.assign([TopicPartition(sys.argv[2], 0, 0)])
k = v = n = 0
while n < 1000:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        continue
    k, v, n = k + len(m.key() or b""), v + len(m.value() or b""), n + 1
print("%.1f %.1f" % (k / max(n, 1), v / max(n, 1)))
EOF
)"
echo "  changelog records: keys of $klen bytes, values of $vlen bytes on average"

out_before=$(watermarks totals | awk '{print $2}')
produce 0 "$check" 2

echo
echo "== restore: streamrun up --exit-at-end (restores $partitions stores, then $check records)"
/usr/bin/time -v -o "$work/restore.time" "$streamrun" up "$work/restore.yaml" --exit-at-end \
    --broker "$addr" 2>"$work/restore.log" ||
    fail "the restore run failed: $(tail -5 "$work/restore.log")"
grep -E '^counts: ' "$work/restore.log" | sed 's/^/  /'
# "restored store 'counts' of partition P from T: N records, S s, K keys, B bytes"
read -r records secs keys bytes parts <<<"$(sed -n \
    's/.*restored store .* of partition [0-9]* from .*: \([0-9]*\) records, \([0-9.]*\) s, \([0-9]*\) keys, \([0-9]*\) bytes.*/\1 \2 \3 \4/p' \
    "$work/restore.log" | awk '{r += $1; s += $2; k += $3; b += $4; n++} END {print r, s, k, b, n}')"
[ "${parts:-0}" = "$partitions" ] ||
    fail "expected $partitions 'restored store' lines with records, seconds, keys and bytes, got ${parts:-0}"
rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$work/restore.time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
           k = split($2, t, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + t[i]; print s}' \
    "$work/restore.time")
cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/restore.time")

# the CHECK records' outputs: each key's totals continue from the restored ones
check_ok=0
"$python" - "$addr" "$out_before" "$check" <<'EOF' >"$work/check.out" || check_ok=$?
import json, sys
from confluent_kafka import Consumer, TopicPartition
addr, before, check = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = Consumer({"bootstrap.servers": addr, "group.id": "restore-bench-check",
              "enable.auto.commit": False, "enable.partition.eof": True})
md = c.list_topics("totals", timeout=10).topics["totals"]
tps = []
for p in md.partitions:
    lo, hi = c.get_watermark_offsets(TopicPartition("totals", p), timeout=10)
    tps.append((p, lo, hi))
ok, bad, seen = 0, [], 0
for p, lo, hi in tps:
    if hi <= lo:
        continue
    c.assign([TopicPartition("totals", p, lo)])
    pos = lo
    while pos < hi:
        m = c.poll(10)
        if m is None:
            sys.exit("totals [%d]: nothing read at offset %d of %d" % (p, pos, hi))
        if m.error():
            continue
        pos = m.offset() + 1
        v = json.loads(m.value())
        if v.get("v") != 2:
            continue
        seen += 1
        if v.get("count") == 2 and v.get("sum") == 3:
            ok += 1
        elif len(bad) < 3:
            bad.append((m.key().decode(), v))
print("%d of %d checked records continued their key's totals (count 2, sum 3)%s"
      % (ok, check, "; wrong: %s" % bad if bad else ""))
sys.exit(0 if ok == check and seen == check else 1)
EOF
sed 's/^/  /' "$work/check.out"

echo
echo "== results: restore of $records changelog records ($n keys) from $partitions partitions," \
    "one $broker_kind broker"
awk -v r="$records" -v s="$secs" -v k="$keys" -v b="$bytes" -v rss="$rss" -v w="$wall" \
    -v cpu="$cpu" -v n="$n" -v kl="$klen" -v vl="$vlen" -v parts="$partitions" 'BEGIN {
    printf "restore: %d records in %.2f s (%.0f records/s; the sum of the partitions'"'"' restores)\n", r, s, r / s
    printf "  target < 5 s for 1,000,000 keys: %s\n", (n >= 1000000 ? (s < 5 ? "met" : "NOT met") : "not measured (N < 1,000,000)")
    printf "keys restored: %d (%d and one per partition: the aggregate'"'"'s arrival number)\n", k, n, parts
    printf "state: %d bytes, %.0f bytes per key: %.0f beyond its key (%.1f bytes) and value (%.1f bytes)\n", b, b / k, b / k - kl - vl, kl, vl
    printf "process: peak RSS %s MB, %.0f bytes per key; CPU %s s; wall %s s (start, restore, %s records, exit)\n", rss, rss * 1048576 / k, cpu, w, "'"$check"'"
}'
[ "$keys" = $((n + partitions)) ] ||
    { echo "restore.sh: $keys keys restored, not $n + $partitions" >&2; exit 1; }
exit "$check_ok"
