#!/usr/bin/env bash
# 0002 — dead letters on Kafka: records that are not JSON, or whose reading lacks
# accelerometer-y, go to `errors` with their original bytes, key, timestamp and headers, plus the
# streamrun.* headers naming the error, the operator, the deployment and the source topic,
# partition and offset; the good records around them are processed as `streamrun run` does.
source "$(dirname "$0")/lib.sh" "$@"

start_broker "$PHONE"
kt lines "$TELEMETRY" "$WORK/good.jsonl"
# 200 good records (keys l000...), with four bad ones among them: two after the first 100, two at
# the end; keys, a null key, input headers (a repeated name, a null value) on the bad ones
"$PYTHON" - "$WORK/good.jsonl" "$WORK/inputs.jsonl" <<'PY'
import json, sys
good = [json.loads(ln) for ln in open(sys.argv[1])]
bad = [
    {"key": "bad-1", "raw": "this is not JSON", "headers": [["trace-id", "t-1"], ["source", "s7"]]},
    {"key": "bad-2", "raw": '{"payload": [}', "headers": [["trace-id", "t-2"]]},
    {"key": "bad-3", "headers": [["trace-id", "t-3"], ["dup", "1"], ["dup", "2"], ["empty", None]],
     "value": {"payload": [{"name": "accelerometer", "time": 10, "values": {"x": 60, "y": 1, "z": 1}},
                           {"name": "accelerometer", "time": 11, "values": {"x": 60, "z": 1}}]}},
    {"key": None, "raw": "][", "headers": [["trace-id", "t-4"]]},
]
with open(sys.argv[2], "w") as out:
    for r in good[:100] + bad[:2] + good[100:] + bad[2:]:
        out.write(json.dumps(r) + "\n")
PY
kt produce "$ADDR" raw-data "$WORK/inputs.jsonl" --report "$WORK/where.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/good.jsonl"

up up 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "streamrun up exited with status $RC"
read -r ref_in ref_delivered ref_filtered ref_out < <(grep -E '^data-normalization: ' \
    "$WORK/reference.log" | sed -E 's/^[^:]+: ([0-9]+) in \(([0-9]+) delivered, ([0-9]+) filtered, 0 dead-lettered\), ([0-9]+) out$/\1 \2 \3 \4/')
[ "$ref_in" = 200 ] || fail "the reference run read $ref_in records, expected 200"
expect_summary up data-normalization $((ref_in + 4)) "$ref_delivered" "$ref_filtered" 4 "$ref_out"

kt read "$ADDR" raw-data "$WORK/raw-data.jsonl"
kt read "$ADDR" errors "$WORK/errors.jsonl"
kt read "$ADDR" table-data "$WORK/table-data.jsonl"
kt compare "$WORK/ref/table-data.jsonl" "$WORK/table-data.jsonl" --exact
"$PYTHON" - "$WORK/inputs.jsonl" "$WORK/where.jsonl" "$WORK/raw-data.jsonl" \
    "$WORK/errors.jsonl" <<'PY'
import base64, json, sys
load = lambda p: [json.loads(ln) for ln in open(p) if ln.strip()]
inputs, where, raw, errors = (load(p) for p in sys.argv[1:])
stored = {(r["partition"], r["offset"]): r for r in raw}
bad = [(r, w) for r, w in zip(inputs, where) if r["key"] is None or r["key"].startswith("bad-")]
failures = []
def check(cond, what):
    if not cond:
        failures.append(what)
check(len(errors) == len(bad), "errors holds %d records, expected %d" % (len(errors), len(bad)))
by_trace = {}
for e in errors:
    t = [v for k, v in e["headers"] if k == "trace-id"]
    by_trace[t[0] if t else None] = e
# (operator, reason): a reason ending in ": " is a prefix (the parser's message follows)
reasons = {"bad-1": ("input", "invalid JSON at byte 1: "),
           "bad-2": ("input", "invalid JSON at byte 14: "),
           "bad-3": ("select (step 4)", "field 'accelerometer-y' is missing"),
           None: ("input", "invalid JSON at byte 1: ")}
for rec, w in bad:
    trace = [v for k, v in rec["headers"] if k == "trace-id"][0]
    e = by_trace.get(trace)
    if e is None:
        failures.append("no dead letter for %s" % trace)
        continue
    src = stored[(w["partition"], w["offset"])]
    want_bytes = rec["raw"].encode() if "raw" in rec else json.dumps(rec["value"]).encode()
    check(base64.b64decode(e["raw_b64"]) == want_bytes,
          "%s: value %r, expected the original bytes %r" % (trace, e["raw"], want_bytes))
    check(e["key"] == rec["key"], "%s: key %r, expected %r" % (trace, e["key"], rec["key"]))
    check(e["timestamp"] == src["timestamp"],
          "%s: timestamp %s, expected the input's %s" % (trace, e["timestamp"], src["timestamp"]))
    n = len(rec["headers"])
    check(e["headers"][:n] == rec["headers"],
          "%s: headers %s do not start with the input's %s" % (trace, e["headers"], rec["headers"]))
    sr = dict((k, v) for k, v in e["headers"][n:])
    op, reason = reasons[rec["key"]]
    want = {"streamrun.operator": op, "streamrun.deployment": "data-normalization",
            "streamrun.source.topic": "raw-data", "streamrun.source.partition": str(w["partition"]),
            "streamrun.source.offset": str(w["offset"])}
    for k, v in want.items():
        check(sr.get(k) == v, "%s: header %s is %r, expected %r" % (trace, k, sr.get(k), v))
    err = sr.get("streamrun.error") or ""
    prefix = reason.endswith(": ")
    check(err.startswith(reason) if prefix else err == reason,
          "%s: streamrun.error is %r, expected %r" % (trace, err, reason + "..." * prefix))
    check(len(e["headers"]) == n + 6 and sorted(sr) == sorted(list(want) + ["streamrun.error"]),
          "%s: headers %s, expected the input's and six streamrun.* ones" % (trace, e["headers"]))
    print("dead letter ok: key=%r raw-data[%d]@%d %s: %s"
          % (e["key"], w["partition"], w["offset"], op, err))
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
PY
echo "PASS"
