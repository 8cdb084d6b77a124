#!/usr/bin/env bash
# 0037 — re-keying before a stateful step under `up`: orders keyed by order id over 4 partitions
# are re-keyed by customer and counted per customer (key → aggregate), which splits the
# deployment into two stages joined by the repartition topic rk-per-customer-key-1-repartition
# (created by `up` on Apache Kafka, by `streamrun broker` from the file on the embedded one). The
# records of one customer reach one task whatever partition of the input they came from, so the
# counts per customer are exact: each customer's outputs count 1, 2, ... its orders once each, and
# its last one holds its order count and amount total, computed here independently. The
# repartition topic's records are in the partition Kafka's murmur2 gives their key. A second run
# over more orders restores the second stage's state from its changelog
# (rk-per-customer-key-1-aggregate-2-changelog: the stage's consumer group and the store) and
# ends with the totals of all the orders; it is run with --only per-customer, which selects both
# stages. On Apache Kafka both stages run exactly-once (each its own transactional producer, named
# from its own consumer group).
source "$(dirname "$0")/lib.sh" "$@"
N1=400 N2=200
mode=at-least-once
[ "$BROKER_KIND" != apache ] || mode=exactly-once

cat >"$WORK/rk.yaml" <<YAML
metadata: {name: rk}
topics:
  - {name: orders, partitions: 4}
  - {name: totals, partitions: 2}
  - {name: errors}
deployments:
  - name: per-customer
    input: orders
    deadLetter: errors
    processing: $mode
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - key: customer
      - aggregate: {n: count(), total: sum(amount)}
      - select: [customer, n, total]
    output: totals
YAML
start_broker "$WORK/rk.yaml"

# orders FIRST N OUT: order i is keyed o<i> (spread over the partitions by the producer), for
# customer c<i*7 % 9>, amount i % 13
orders() {
    "$PYTHON" - "$@" <<'PY'
import json, sys
first, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(out, "w") as f:
    for i in range(first, first + n):
        f.write(json.dumps({"key": "o%d" % i, "value": {"customer": "c%d" % (i * 7 % 9), "amount": i % 13}}) + "\n")
PY
}

# check ORDERS TOTALS: per customer, the outputs count 1..n once each and the last is n, sum
check() {
    "$PYTHON" - "$@" <<'PY'
import json, sys
from collections import Counter, defaultdict
want_n, want_sum = Counter(), Counter()
for ln in open(sys.argv[1]):
    v = json.loads(ln)["value"]
    want_n[v["customer"]] += 1
    want_sum[v["customer"]] += v["amount"]
seen, last, parts = defaultdict(list), {}, defaultdict(set)
for ln in open(sys.argv[2]):
    r = json.loads(ln)
    v = r["value"]
    assert r["key"] == v["customer"], r
    seen[r["key"]].append(v["n"])
    parts[r["key"]].add(r["partition"])
    if v["n"] >= last.get(r["key"], {"n": 0})["n"]:
        last[r["key"]] = v
bad = []
for c in sorted(want_n):
    if sorted(seen[c]) != list(range(1, want_n[c] + 1)):
        bad.append("%s: counts %s, expected 1..%d once each" % (c, sorted(seen[c])[:12], want_n[c]))
    elif last[c]["total"] != want_sum[c]:
        bad.append("%s: total %s, expected %d" % (c, last[c]["total"], want_sum[c]))
    if len(parts[c]) != 1:
        bad.append("%s: in partitions %s of totals" % (c, sorted(parts[c])))
if set(seen) != set(want_n):
    bad.append("customers %s, expected %s" % (sorted(seen), sorted(want_n)))
if bad:
    sys.exit("FAIL: " + "; ".join(bad))
print("totals ok: %d customers, %d orders" % (len(want_n), sum(want_n.values())))
PY
}

# murmur_check FILE PARTITIONS: each record is in partition murmur2(key) % PARTITIONS (Kafka's
# Java client partitioner, written out here from its definition)
murmur_check() {
    "$PYTHON" - "$@" <<'PY'
import json, sys
def murmur2(data):
    m, h = 0x5bd1e995, (0x9747b28c ^ len(data)) & 0xffffffff
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> 24
        k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    rest = data[4 * n4:]
    if len(rest) >= 3: h ^= rest[2] << 16
    if len(rest) >= 2: h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h
parts = int(sys.argv[2])
n = 0
for ln in open(sys.argv[1]):
    r = json.loads(ln)
    want = (murmur2(r["key"].encode()) & 0x7fffffff) % parts
    if r["partition"] != want:
        sys.exit("FAIL: %s is in partition %d of the repartition topic, not %d" % (r["key"], r["partition"], want))
    n += 1
print("repartition ok: %d records, each in the partition of its key" % n)
PY
}

orders 0 "$N1" "$WORK/orders1.jsonl"
kt produce "$ADDR" orders "$WORK/orders1.jsonl" >/dev/null
up first 120 "$WORK/rk.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
expect_summary first per-customer "$N1" "$N1" 0 0 "$N1"
expect_summary first per-customer/2 "$N1" "$N1" 0 0 "$N1"
kt read "$ADDR" rk-per-customer-key-1-repartition "$WORK/repartition.jsonl" >/dev/null
murmur_check "$WORK/repartition.jsonl" 4
kt read "$ADDR" totals "$WORK/totals1.jsonl" >/dev/null
check "$WORK/orders1.jsonl" "$WORK/totals1.jsonl"

orders "$N1" "$N2" "$WORK/orders2.jsonl"
kt produce "$ADDR" orders "$WORK/orders2.jsonl" >/dev/null
up second 120 "$WORK/rk.yaml" --exit-at-end --only per-customer # its second stage with it
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
grep -q "restored store 'aggregate-2' of partition [0-9]* from rk-per-customer-key-1-aggregate-2-changelog" \
    "$WORK/second.log" || fail "the second stage restored no state: $(grep -i restor "$WORK/second.log" | head -3)"
expect_summary second per-customer/2 "$N2" "$N2" 0 0 "$N2"
cat "$WORK/orders1.jsonl" "$WORK/orders2.jsonl" >"$WORK/orders.jsonl"
kt read "$ADDR" totals "$WORK/totals.jsonl" >/dev/null
check "$WORK/orders.jsonl" "$WORK/totals.jsonl"
echo "PASS"
