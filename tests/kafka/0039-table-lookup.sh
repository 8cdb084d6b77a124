#!/usr/bin/env bash
# 0039 — a co-partitioned topic table under `up`: `enrich` looks each order up in the table of
# topic `customers` (4 partitions each; both written with murmur2_random, as Java clients and
# streamrun's producers place keys), so the deployment consumes `customers` too and each task keeps
# its partition's part of the table in a store logged to a changelog. Four runs, each with
# --exit-at-end, so that the table's records of a run are processed before the orders of the next:
#   1. the table: 40 customers, one deleted by a tombstone (nothing written, 41 in);
#   2. 42 orders after a restart: the table comes from its changelog (the committed offsets skip
#      the table's records), 40 orders find their customer, the deleted and an unknown one are
#      dead-lettered with reason "no match";
#   3. an update and a deletion of the table; 4. orders of those keys see them.
source "$(dirname "$0")/lib.sh" "$@"
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: lookup}
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
with open(w + "/customers-1.jsonl", "w") as f:
    for i in range(40):
        f.write(json.dumps({"key": "c%02d" % i, "value": {"name": "n%02d" % i}}) + "\n")
    f.write(json.dumps({"key": "c05", "tombstone": True}) + "\n")
with open(w + "/orders-2.jsonl", "w") as f:
    for i in list(range(40)) + [99]:
        f.write(json.dumps({"key": "c%02d" % i, "value": {"order": i}}) + "\n")
    f.write(json.dumps({"key": "c07", "value": {"order": 107}}) + "\n")
with open(w + "/customers-3.jsonl", "w") as f:
    f.write(json.dumps({"key": "c01", "value": {"name": "renamed"}}) + "\n")
    f.write(json.dumps({"key": "c02", "tombstone": True}) + "\n")
with open(w + "/orders-4.jsonl", "w") as f:
    for i in (1, 2, 3):
        f.write(json.dumps({"key": "c%02d" % i, "value": {"order": 200 + i}}) + "\n")
PY

produce_keyed customers "$WORK/customers-1.jsonl"
up run1 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 1 exited with status $RC: $(tail -3 "$WORK/run1.log")"
expect_summary run1 enrich 41 41 0 0 0

produce_keyed orders "$WORK/orders-2.jsonl"
up run2 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 2 exited with status $RC: $(tail -3 "$WORK/run2.log")"
expect_summary run2 enrich 42 40 0 2 40
grep -qE "^enrich: .* [1-9][0-9]* state records restored" "$WORK/run2.log" ||
    fail "run 2 restored no table: $(summary run2 enrich)"

produce_keyed customers "$WORK/customers-3.jsonl"
up run3 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 3 exited with status $RC"
expect_summary run3 enrich 2 2 0 0 0
produce_keyed orders "$WORK/orders-4.jsonl"
up run4 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 4 exited with status $RC"
expect_summary run4 enrich 3 2 0 1 2

kt read "$ADDR" enriched "$WORK/enriched.jsonl" >/dev/null
kt read "$ADDR" errors "$WORK/errors.jsonl" >/dev/null
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
got = sorted((r["key"], r["value"]["order"], r["value"]["name"])
             for r in map(json.loads, open(w + "/enriched.jsonl")))
want = sorted([("c%02d" % i, i, "n%02d" % i) for i in range(40) if i != 5] +
              [("c07", 107, "n07"), ("c01", 201, "renamed"), ("c03", 203, "n03")])
if got != want:
    sys.exit("FAIL: enriched differs: missing %s, unexpected %s"
             % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
dead = sorted((r["key"], dict(r["headers"])["streamrun.error"])
              for r in map(json.loads, open(w + "/errors.jsonl")))
want = sorted((k, "no match (lookup step 1): table 'customers' has no key '%s'" % k)
              for k in ("c05", "c99", "c02"))
if dead != want:
    sys.exit("FAIL: dead letters %s, expected %s" % (dead, want))
print("enriched: %d records as expected; dead letters: %s" % (len(got), [k for k, _ in dead]))
PY
echo "PASS"
