#!/usr/bin/env bash
# 0032 — dead letters that cannot be written as they came never block a partition: among good
# records, a tombstone (null value) and a 1.5 MB value that is not JSON (over the producer's
# message.max.bytes, 1,000,000 by default) are dead-lettered: the tombstone with a null value,
# the large one cut to fit, saying so in its reason and in streamrun.source.size, with the
# input's headers and its topic, partition and offset. `up --exit-at-end` exits 0 with every
# input accounted for, a second run reads nothing more, and `tap` shows the tombstone's null.
# On Apache Kafka raw-data accepts records of up to 2,000,000 bytes; errors keeps the default.
source "$(dirname "$0")/lib.sh" "$@"
BIG=1500000

start_broker "$PHONE"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
head -40 "$WORK/lines.jsonl" >"$WORK/good.jsonl"
"$PYTHON" - "$WORK/good.jsonl" "$WORK/inputs.jsonl" "$BIG" <<'PY'
import json, sys
good = [json.loads(ln) for ln in open(sys.argv[1])]
big = int(sys.argv[3])
recs = (good[:20] +
        [{"key": "tomb", "tombstone": True, "headers": [["trace-id", "t-tomb"]]},
         {"key": "big", "raw": "x" * big, "headers": [["trace-id", "t-big"]]}] +
        good[20:])
with open(sys.argv[2], "w") as out:
    for r in recs:
        out.write(json.dumps(r) + "\n")
PY
# Apache Kafka refuses records over a topic's max.message.bytes (about 1 MB by default) or its
# segment size (1 MiB in the tests)
[ "$BROKER_KIND" != apache ] || kt topic-config "$ADDR" raw-data max.message.bytes=2000000 segment.bytes=4194304
kt produce "$ADDR" raw-data "$WORK/inputs.jsonl" --report "$WORK/where.jsonl" --max-bytes 2000000
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/good.jsonl"
read -r ref_delivered ref_filtered ref_out < <(grep -E '^data-normalization: ' \
    "$WORK/reference.log" | sed -E 's/^[^:]+: 40 in \(([0-9]+) delivered, ([0-9]+) filtered, 0 dead-lettered\), ([0-9]+) out$/\1 \2 \3/')
[ -n "$ref_out" ] || fail 'no summary in the reference run'

up run1 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the run exited with status $RC: a dead letter blocked the partition"
expect_summary run1 data-normalization 42 "$ref_delivered" "$ref_filtered" 2 "$ref_out"
up run2 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
expect_summary run2 data-normalization 0 0 0 0 0

kt read "$ADDR" table-data "$WORK/table-data.jsonl"
kt compare "$WORK/ref/table-data.jsonl" "$WORK/table-data.jsonl" --exact
kt read "$ADDR" errors "$WORK/errors.jsonl"
"$PYTHON" - "$WORK/inputs.jsonl" "$WORK/where.jsonl" "$WORK/errors.jsonl" "$BIG" <<'PY'
import base64, json, sys
load = lambda p: [json.loads(ln) for ln in open(p) if ln.strip()]
inputs, where, errors = (load(p) for p in sys.argv[1:4])
big = int(sys.argv[4])
failures = []
def check(cond, what):
    if not cond:
        failures.append(what)
by_key = {e["key"]: e for e in errors}
check(sorted(by_key) == ["big", "tomb"] and len(errors) == 2,
      "errors holds %s, expected the dead letters of big and tomb" % [e["key"] for e in errors])
for i, key in ((20, "tomb"), (21, "big")):
    e = by_key.get(key)
    if e is None:
        continue
    h = dict(e["headers"])
    want = {"trace-id": "t-" + key, "streamrun.operator": "input",
            "streamrun.source.topic": "raw-data",
            "streamrun.source.partition": str(where[i]["partition"]),
            "streamrun.source.offset": str(where[i]["offset"])}
    for k, v in want.items():
        check(h.get(k) == v, "%s: header %s is %r, expected %r" % (key, k, h.get(k), v))
    print("%s: %d bytes%s, streamrun.error: %s" % (key, len(base64.b64decode(e["raw_b64"])),
          " (a null value)" if e.get("tombstone") else "", h.get("streamrun.error")))
t = by_key.get("tomb")
if t:
    check(t.get("tombstone") is True, "tomb: the dead letter's value is not null")
    check("no value" in (dict(t["headers"]).get("streamrun.error") or ""),
          "tomb: the reason does not say the record has no value")
b = by_key.get("big")
if b:
    raw = base64.b64decode(b["raw_b64"])
    h = dict(b["headers"])
    check(0 < len(raw) <= 1000000 and raw == b"x" * len(raw),
          "big: the value is %d bytes, expected the start of the original within 1,000,000"
          % len(raw))
    check(len(raw) >= 990000, "big: only %d bytes kept, when ~1,000,000 fit" % len(raw))
    check(h.get("streamrun.source.size") == str(big),
          "big: streamrun.source.size is %r, expected %d" % (h.get("streamrun.source.size"), big))
    err = h.get("streamrun.error") or ""
    check(err.startswith("invalid JSON at byte 1: ") and "message.max.bytes" in err
          and str(len(raw)) in err,
          "big: the reason %r does not say the value was cut to fit message.max.bytes" % err)
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
PY

# tap shows the tombstone's dead letter with a null value
timeout 30 "$STREAMRUN" tap errors --broker "$ADDR" --from-beginning --count 2 \
    >"$WORK/tap.jsonl" 2>"$WORK/tap.log" || fail "tap failed"
"$PYTHON" -c '
import json, sys
recs = {r["key"]: r for r in map(json.loads, open(sys.argv[1]))}
assert "tomb" in recs and recs["tomb"]["value"] is None, "tap: %s" % recs.get("tomb")
print("tap shows the tombstone dead letter with value null")' "$WORK/tap.jsonl" ||
    fail "tap does not show a null value"
echo "PASS"
