#!/usr/bin/env bash
# 0042 — a two-input latest-by-key join under `up`, across a restart: `features` joins SX and SY
# (4 partitions each, written with murmur2_random) into {sx, sy} per client. Two runs, each with
# --exit-at-end:
#   1. 30 SX values and 15 SY values: 15 rows;
#   2. after the restart (the committed offsets skip run 1's records, so the latest values must
#      come back from the join's changelog): the other 15 SY values complete their rows with the
#      SX values of run 1, an SX update changes a row, an SX and an SY tombstone retract two rows
#      (a tombstone on `features`), and a tombstone of a key never seen changes nothing.
# The final row of each key on `features` must be the join of the latest values of all the input.
source "$(dirname "$0")/lib.sh" "$@"
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: joins}
topics:
  - {name: SX, partitions: 4}
  - {name: SY, partitions: 4}
  - {name: features, partitions: 4}
  - errors
deployments:
  - name: features
    input: [SX, SY]
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - join: {sx: SX, sy: SY}
    output: features
YAML
check_valid "$WORK/t.yaml"
start_broker "$WORK/t.yaml"

"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def write(name, recs):
    with open("%s/%s.jsonl" % (w, name), "w") as f:
        for k, v in recs:
            f.write(json.dumps({"key": k, "tombstone": True} if v is None
                               else {"key": k, "value": v}) + "\n")
write("sx-1", [("k%02d" % i, {"x": i}) for i in range(30)])
write("sy-1", [("k%02d" % i, {"y": i}) for i in range(15)])
write("sy-2", [("k%02d" % i, {"y": 100 + i}) for i in range(15, 30)] + [("k04", None)])
write("sx-2", [("k00", {"x": 1000}), ("k03", None), ("k99", None)])
PY

produce_keyed SX "$WORK/sx-1.jsonl"
produce_keyed SY "$WORK/sy-1.jsonl"
up run1 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 1 exited with status $RC: $(tail -3 "$WORK/run1.log")"
expect_summary run1 features 45 15 30 0 15

produce_keyed SY "$WORK/sy-2.jsonl"
produce_keyed SX "$WORK/sx-2.jsonl"
up run2 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 2 exited with status $RC: $(tail -3 "$WORK/run2.log")"
expect_summary run2 features 19 18 1 0 18
grep -qE "^features: .* [1-9][0-9]* state records restored" "$WORK/run2.log" ||
    fail "run 2 restored no state: $(summary run2 features)"

kt read "$ADDR" features "$WORK/features.jsonl" >/dev/null
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
latest = {"SX": {}, "SY": {}}  # the input, applied in order: the reference
for topic, files in (("SX", ("sx-1", "sx-2")), ("SY", ("sy-1", "sy-2"))):
    for name in files:
        for r in map(json.loads, open("%s/%s.jsonl" % (w, name))):
            if r.get("tombstone"):
                latest[topic].pop(r["key"], None)
            else:
                latest[topic][r["key"]] = r["value"]
want = {k: {"sx": latest["SX"][k], "sy": latest["SY"][k]}
        for k in latest["SX"] if k in latest["SY"]}
final, rows = {}, 0
for r in map(json.loads, open(w + "/features.jsonl")):  # in offset order per partition
    rows += 1
    if r.get("tombstone"):
        final.pop(r["key"], None)
    else:
        final[r["key"]] = r["value"]
if final != want:
    diff = sorted(k for k in set(final) | set(want) if final.get(k) != want.get(k))
    sys.exit("FAIL: the final rows differ for %s: got %s, expected %s"
             % (diff, [final.get(k) for k in diff], [want.get(k) for k in diff]))
tomb = sum(1 for r in map(json.loads, open(w + "/features.jsonl")) if r.get("tombstone"))
if tomb != 2:
    sys.exit("FAIL: %d tombstones on features, expected 2 (k03, k04 retracted)" % tomb)
print("features: %d records, final rows of %d keys as expected" % (rows, len(want)))
PY
echo "PASS"
