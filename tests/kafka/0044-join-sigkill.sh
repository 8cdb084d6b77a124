#!/usr/bin/env bash
# 0044 — a latest-by-key join survives SIGKILL (at least once): `features` joins SX and SY (4
# partitions each) into {sx, sy} per client. A run is killed with SIGKILL once its join state
# was logged (its changelog grew) and after more input was processed (its rows written); a new
# run restores the latest values from the changelog, processes again what was not committed,
# then more input (updates and tombstones) until the end. Rows written twice are allowed (at
# least once); the final row of each key must be the join of the latest values of the whole
# input (computed in Python from the produced files), and keys whose SX came only before the kill
# must still be joined with the SY values that came after it.
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
LOG=joins-features-join-1-changelog

"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def write(name, recs):
    with open("%s/%s.jsonl" % (w, name), "w") as f:
        for k, v in recs:
            f.write(json.dumps({"key": k, "tombstone": True} if v is None
                               else {"key": k, "value": v}) + "\n")
# before the kill: every SX, half the SY (20 rows); then the other SY (20 more rows)
write("sx-1", [("k%02d" % i, {"x": i}) for i in range(40)])
write("sy-1", [("k%02d" % i, {"y": i}) for i in range(20)])
write("sy-2", [("k%02d" % i, {"y": 100 + i}) for i in range(20, 40)])
# after the restart: updates and tombstones
write("sx-3", [("k01", {"x": 1001}), ("k02", None), ("k25", {"x": 1025})])
write("sy-3", [("k30", None), ("k31", {"y": 1031})])
PY

produce_keyed SX "$WORK/sx-1.jsonl"
produce_keyed SY "$WORK/sy-1.jsonl"
up_bg killed 120 "$WORK/t.yaml" --commit-interval 300ms
killed=$UP_PID
kt wait "$ADDR" features 20 --isolation read_uncommitted --timeout 60 >/dev/null
for _ in $(seq 300); do # the changelog exists (up creates it) and holds the logged state
    kt topics "$ADDR" | grep -qx "$LOG" && break
    sleep 0.2
done
kt wait "$ADDR" "$LOG" 1 --timeout 60 >/dev/null
produce_keyed SY "$WORK/sy-2.jsonl"
kt wait "$ADDR" features 40 --isolation read_uncommitted --timeout 60 >/dev/null
pid=$(pgrep -P "$killed") || fail "the first run exited before its SIGKILL"
kill -KILL "$pid"
{ wait "$killed" || true; } 2>/dev/null
echo "SIGKILL after the state was logged and the other SY values were processed"

produce_keyed SX "$WORK/sx-3.jsonl"
produce_keyed SY "$WORK/sy-3.jsonl"
up final 60 "$WORK/t.yaml" --exit-at-end --commit-interval 300ms
[ "$RC" = 0 ] || fail "the last run exited with status $RC: $(tail -3 "$WORK/final.log")"
grep -qE "^features: .* [1-9][0-9]* state records restored" "$WORK/final.log" ||
    fail "the last run restored no state: $(summary final features)"
echo "last run: $(summary final features)"

kt read "$ADDR" features "$WORK/features.jsonl" >/dev/null
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
latest = {"SX": {}, "SY": {}}
for topic, files in (("SX", ("sx-1", "sx-3")), ("SY", ("sy-1", "sy-2", "sy-3"))):
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
print("features: %d records (%d more than once), final rows of %d keys as expected"
      % (rows, rows - 40 - 5, len(want)))
PY
echo "PASS"
