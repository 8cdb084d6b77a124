#!/usr/bin/env bash
# 0043 — an interval join under `up`, across restarts: `clicks` joins impressions and clicks of
# the same key within 1 minute (4 partitions each, written with murmur2_random), unmatched
# records dead-lettered. Three runs, each with --exit-at-end, so the kept records of a run must
# come back from the join's changelog in the next:
#   1. 20 impressions (k00..k19): kept, nothing written;
#   2. 20 clicks, each 1..59 s after its impression (joined with the restored impressions; one
#      exactly 60 s after: the bound is included), and for k20 a click with no impression and one
#      10 minutes later that moves its partition's stream time: the first expires unmatched and is
#      dead-lettered with reason "no match (join step 1)";
#   3. an impression of k20 at the first click's time: late, since the restored stream time is
#      10 minutes on (dead-lettered as late, not joined).
source "$(dirname "$0")/lib.sh" "$@"
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: joins}
topics:
  - {name: impressions, partitions: 4}
  - {name: clicks, partitions: 4}
  - {name: joined, partitions: 4}
  - errors
deployments:
  - name: clicks
    input: [impressions, clicks]
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - join: {inputs: {imp: impressions, click: clicks}, within: 1m, unmatched: dead-letter}
    output: joined
YAML
check_valid "$WORK/t.yaml"
start_broker "$WORK/t.yaml"

T0=$(($(date +%s) * 1000 - 3600000)) # an hour ago: within the topics' retention
"$PYTHON" - "$WORK" "$T0" <<'PY'
import json, sys
w, t0 = sys.argv[1], int(sys.argv[2])
def write(name, recs):
    with open("%s/%s.jsonl" % (w, name), "w") as f:
        for k, ts, v in recs:
            f.write(json.dumps({"key": k, "timestamp": ts, "value": v}) + "\n")
write("imps-1", [("k%02d" % i, t0 + i * 1000, {"i": i}) for i in range(20)])
write("clicks-2", [("k%02d" % i, t0 + i * 1000 + (60000 if i == 7 else 1000 + i * 3000),
                    {"c": i}) for i in range(20)]
      + [("k20", t0 + 30000, {"c": 20}), ("k20", t0 + 630000, {"c": 21})])
write("imps-3", [("k20", t0 + 30000, {"i": 20})])
PY

produce_keyed impressions "$WORK/imps-1.jsonl"
up run1 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 1 exited with status $RC: $(tail -3 "$WORK/run1.log")"
expect_summary run1 clicks 20 0 20 0 0

produce_keyed clicks "$WORK/clicks-2.jsonl"
up run2 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 2 exited with status $RC: $(tail -3 "$WORK/run2.log")"
expect_summary run2 clicks 22 20 2 0 20
grep -qE "^clicks: .* 1 unmatched \\(join step 1\\).* [1-9][0-9]* state records restored" \
    "$WORK/run2.log" || fail "run 2: no unmatched record or no restored state: $(summary run2 clicks)"

produce_keyed impressions "$WORK/imps-3.jsonl"
up run3 60 "$WORK/t.yaml" --exit-at-end --commit-interval 200ms
[ "$RC" = 0 ] || fail "run 3 exited with status $RC: $(tail -3 "$WORK/run3.log")"
expect_summary run3 clicks 1 0 0 1 0

kt read "$ADDR" joined "$WORK/joined.jsonl" >/dev/null
kt read "$ADDR" errors "$WORK/errors.jsonl" >/dev/null
"$PYTHON" - "$WORK" "$T0" <<'PY'
import json, sys
w, t0 = sys.argv[1], int(sys.argv[2])
got = sorted((r["key"], r["timestamp"], json.dumps(r["value"], sort_keys=True))
             for r in map(json.loads, open(w + "/joined.jsonl")))
imps = {r["key"]: r for r in map(json.loads, open(w + "/imps-1.jsonl"))}
want = []
for c in map(json.loads, open(w + "/clicks-2.jsonl")):
    i = imps.get(c["key"])
    if i and abs(c["timestamp"] - i["timestamp"]) <= 60000:
        want.append((c["key"], max(c["timestamp"], i["timestamp"]),
                     json.dumps({"imp": i["value"], "click": c["value"]}, sort_keys=True)))
want.sort()
if len(want) != 20 or got != want:
    sys.exit("FAIL: joined differs: missing %s, unexpected %s"
             % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
dead = sorted((r["key"], r["timestamp"], dict(r["headers"])["streamrun.error"][:30])
              for r in map(json.loads, open(w + "/errors.jsonl")))
want = sorted([("k20", t0 + 30000, "no match (join step 1)"),
               ("k20", t0 + 30000, "late: the record's event time ")])
if dead != want:
    sys.exit("FAIL: dead letters %s, expected %s" % (dead, want))
print("joined: %d pairs as expected; dead letters: unmatched and late" % len(got))
PY
echo "PASS"
