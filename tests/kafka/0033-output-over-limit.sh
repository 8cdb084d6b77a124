#!/usr/bin/env bash
# 0033 — records over the producer's message.max.bytes (5,000 bytes here) are errors of their
# input, not of the run: an output that would be larger dead-letters its input with the reason,
# and that dead letter is itself cut to fit — the value first; when the input's key and headers
# alone leave no room, its headers are left out — saying so in the reason. `up --exit-at-end`
# exits 0, the records around them are processed, and everything is committed.
source "$(dirname "$0")/lib.sh" "$@"

cat >"$WORK/sizes.yaml" <<'YAML'
metadata: {name: sizes}
kafka: {message.max.bytes: 5000}
topics:
  - {name: in}
  - {name: out}
  - {name: dead}
deployments:
  - name: pass
    input: in
    deadLetter: dead
    pipeline:
      - set: {seen: true}
    output: out
YAML
start_broker "$WORK/sizes.yaml"
"$PYTHON" - "$WORK/in.jsonl" <<'PY'
import json, sys
recs = [{"key": "k1", "value": {"id": 1}},
        {"key": "k2", "value": {"id": 2, "pad": "x" * 6000}},
        {"key": "k3" + "y" * 3000, "value": {"id": 3}, "headers": [["h", "z" * 3000]]},
        {"key": "k4", "value": {"id": 4}}]
with open(sys.argv[1], "w") as out:
    for r in recs:
        out.write(json.dumps(r) + "\n")
PY
kt produce "$ADDR" in "$WORK/in.jsonl"

up run1 60 "$WORK/sizes.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the run exited with status $RC: an output over the limit stopped it"
expect_summary run1 pass 4 2 0 2 2
up run2 60 "$WORK/sizes.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
expect_summary run2 pass 0 0 0 0 0

kt read "$ADDR" out "$WORK/out.jsonl"
kt read "$ADDR" dead "$WORK/dead.jsonl"
"$PYTHON" - "$WORK/out.jsonl" "$WORK/dead.jsonl" <<'PY'
import base64, json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
dead = {r["key"][:2]: r for r in map(json.loads, open(sys.argv[2]))}
failures = []
def check(cond, what):
    if not cond:
        failures.append(what)
check(sorted(r["value"]["id"] for r in out) == [1, 4], "out holds %s, expected ids 1 and 4" % out)
check(sorted(dead) == ["k2", "k3"], "dead holds %s, expected k2 and k3" % sorted(dead))
k2, k3 = dead.get("k2"), dead.get("k3")
if k2:
    h = dict(k2["headers"])
    raw = base64.b64decode(k2["raw_b64"])
    err = h.get("streamrun.error", "")
    check(err.startswith("the output to out takes ") and "more than message.max.bytes (5000)" in err
          and "the dead letter is cut to fit message.max.bytes" in err,
          "k2: reason %r" % err)
    whole = json.dumps({"id": 2, "pad": "x" * 6000}).encode()
    check(0 < len(raw) < 5000 and whole.startswith(raw), "k2: value of %d bytes is not the input's start" % len(raw))
    check(h.get("streamrun.source.size") == str(len(whole)),
          "k2: streamrun.source.size %r, expected %d" % (h.get("streamrun.source.size"), len(whole)))
    print("k2: %d of %d bytes kept: %s" % (len(raw), len(whole), err))
if k3:
    h = dict(k3["headers"])
    err = h.get("streamrun.error", "")
    check(k3["key"] == "k3" + "y" * 3000, "k3: the key was changed although it fits")
    check("h" not in h and "the input's 1 headers are left out" in err,
          "k3: the input's header should be left out and the reason say so: %r" % err)
    check(json.loads(base64.b64decode(k3["raw_b64"])) == {"id": 3}, "k3: the value is not whole")
    check(h.get("streamrun.source.offset") is not None, "k3: no streamrun.source.offset")
    print("k3: %s" % err)
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
PY
echo "PASS"
