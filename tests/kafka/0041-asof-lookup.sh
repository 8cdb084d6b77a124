#!/usr/bin/env bash
# 0041 — an as-of lookup under `up`: `price` looks each trade up in a co-partitioned topic table
# with history (its versions by record timestamp, kept in the lookup's store and changelog), as
# of the trade's timestamp within 3 s. Run 1 (--exit-at-end) reads the prices: versions at t0,
# t0+5 s, a deletion at t0+9 s, t0+12 s per key, one of them out of order. Run 2 restarts, so the
# versions come back from the changelog, and reads trades of several times: each finds the version
# then current, if it is at most 3 s old and not a deletion, else it is dead-lettered.
source "$(dirname "$0")/lib.sh" "$@"
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: asof}
topics:
  - {name: trades, partitions: 3}
  - {name: prices, partitions: 3}
  - {name: priced, partitions: 3}
  - errors
tables:
  - {name: prices, topic: prices, history: 1h}
deployments:
  - name: price
    input: trades
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - lookup: {table: prices, fields: {price: price}, asOf: 3s, unmatched: dead-letter}
    output: priced
YAML
check_valid "$WORK/t.yaml"
start_broker "$WORK/t.yaml"
T0=$(($(date +%s) * 1000 - 60000)) # a minute ago: within the topics' retention
"$PYTHON" - "$WORK" "$T0" <<'PY'
import json, sys
w, t0 = sys.argv[1], int(sys.argv[2])
keys = ["k%d" % i for i in range(6)]
with open(w + "/prices.jsonl", "w") as f:
    for k in keys:
        for dt, v in ((0, 10), (12000, 120), (9000, None), (5000, 50)):  # 5000 out of order
            r = {"key": k, "timestamp": t0 + dt}
            if v is None:
                r["tombstone"] = True
            else:
                r["value"] = {"price": v, "k": k}
            f.write(json.dumps(r) + "\n")
# (trade time, the price it finds, or None: no match)
cases = [(-1, None), (0, 10), (2999, 10), (4000, None), (5000, 50), (8000, 50), (8001, None),
         (9500, None), (12000, 120), (15000, 120), (15001, None)]
with open(w + "/trades.jsonl", "w") as f, open(w + "/expected.json", "w") as e:
    want = []
    for k in keys:
        for dt, price in cases:
            f.write(json.dumps({"key": k, "timestamp": t0 + dt, "value": {"dt": dt}}) + "\n")
            want.append([k, dt, price])
    json.dump(want, e)
PY
produce_keyed prices "$WORK/prices.jsonl"
up run1 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 1 exited with status $RC: $(tail -3 "$WORK/run1.log")"
expect_summary run1 price 24 24 0 0 0
produce_keyed trades "$WORK/trades.jsonl"
up run2 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 2 exited with status $RC: $(tail -3 "$WORK/run2.log")"
grep -qE "^price: .* [1-9][0-9]* state records restored" "$WORK/run2.log" ||
    fail "run 2 restored no versions: $(summary run2 price)"
expect_summary run2 price 66 36 0 30 36
kt read "$ADDR" priced "$WORK/priced.jsonl" >/dev/null
kt read "$ADDR" errors "$WORK/errors.jsonl" >/dev/null
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
want = sorted(tuple(x) for x in json.load(open(w + "/expected.json")))
got = sorted([(r["key"], r["value"]["dt"], r["value"]["price"])
              for r in map(json.loads, open(w + "/priced.jsonl"))] +
             [(r["key"], r["value"]["dt"], None) for r in map(json.loads, open(w + "/errors.jsonl"))
              if dict(r["headers"])["streamrun.error"].startswith("no match (lookup step 1)")])
if got != want:
    sys.exit("FAIL: as-of results differ: missing %s, unexpected %s"
             % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
print("as-of: %d trades as expected" % len(got))
PY
echo "PASS"
