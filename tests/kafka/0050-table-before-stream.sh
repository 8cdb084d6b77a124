#!/usr/bin/env bash
# 0050 — a co-partitioned table is read before its stream: both topics are written before `up`
# starts, the table with 40,000 customers and the orders with 400 of the last customers written.
# The consumer fetches both topics side by side, so without holding the stream back the orders
# would come before most of their rows (the embedded broker returns one batch per partition per
# fetch). On assignment `up` pauses the orders' partitions until each customers partition has
# been read to where it ended: every order finds its customer (inner lookup, dead-lettered
# otherwise). A second batch of orders after a restart (the table from its changelog, nothing
# to wait for) finds them too.
source "$(dirname "$0")/lib.sh" "$@"
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: tables-first}
topics:
  - {name: orders, partitions: 4}
  - {name: customers, partitions: 4}
  - {name: enriched, partitions: 4}
  - errors
tables:
  - {name: customers, topic: customers}
deployments:
  - name: enrich
    input: orders
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - lookup: {table: customers, fields: {name: name}, unmatched: dead-letter}
    output: enriched
YAML
check_valid "$WORK/t.yaml"
start_broker "$WORK/t.yaml"

"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
with open(w + "/customers.jsonl", "w") as f:
    for i in range(40000):
        f.write(json.dumps({"key": "c%05d" % i, "value": {"name": "n%05d" % i}}) + "\n")
with open(w + "/orders-1.jsonl", "w") as f:
    for i in range(39600, 40000):
        f.write(json.dumps({"key": "c%05d" % i, "value": {"order": i}}) + "\n")
with open(w + "/orders-2.jsonl", "w") as f:
    for i in range(0, 40000, 400):
        f.write(json.dumps({"key": "c%05d" % i, "value": {"order": 100000 + i}}) + "\n")
PY
produce_keyed orders "$WORK/orders-1.jsonl"
produce_keyed customers "$WORK/customers.jsonl"

up run1 120 "$WORK/t.yaml" --exit-at-end --commit-interval 500ms
[ "$RC" = 0 ] || fail "run 1 exited with status $RC: $(tail -3 "$WORK/run1.log")"
grep -q "enrich: reading [0-9]* table partitions\? to their end before the stream" "$WORK/run1.log" ||
    fail "run 1 did not say it read the table first: $(grep enrich "$WORK/run1.log" | head -5)"
expect_summary run1 enrich 40400 40400 0 0 400

produce_keyed orders "$WORK/orders-2.jsonl"
up run2 60 "$WORK/t.yaml" --exit-at-end --commit-interval 500ms
[ "$RC" = 0 ] || fail "run 2 exited with status $RC: $(tail -3 "$WORK/run2.log")"
expect_summary run2 enrich 100 100 0 0 100

kt read "$ADDR" enriched "$WORK/enriched.jsonl" >/dev/null
kt read "$ADDR" errors "$WORK/errors.jsonl" >/dev/null
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
got = sorted((r["key"], r["value"]["order"], r["value"]["name"])
             for r in map(json.loads, open(w + "/enriched.jsonl")))
want = sorted([("c%05d" % i, i, "n%05d" % i) for i in range(39600, 40000)] +
              [("c%05d" % i, 100000 + i, "n%05d" % i) for i in range(0, 40000, 400)])
if got != want:
    sys.exit("FAIL: enriched differs: %d missing, %d unexpected (e.g. %s)"
             % (len(set(want) - set(got)), len(set(got) - set(want)),
                sorted(set(want) - set(got))[:3]))
dead = [r["key"] for r in map(json.loads, open(w + "/errors.jsonl"))]
if dead:
    sys.exit("FAIL: %d dead letters (orders that came before their customer), e.g. %s"
             % (len(dead), dead[:3]))
print("enriched: %d records as expected, no dead letters" % len(got))
PY
echo "PASS"
