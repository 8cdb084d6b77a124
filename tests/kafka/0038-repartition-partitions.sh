#!/usr/bin/env bash
# 0038 — a repartition topic's partition count: the topic after a re-key exists with 6 partitions
# (the embedded broker started from a file whose key step says partitions: 6; on Apache Kafka,
# created beforehand), and the file run says nothing (so 4, its input's count): `up` refuses to
# start (exit 2), at the key step, naming the topic, both counts and the fix. With partitions: 6 on
# the key step it runs, and the records of one key go to one partition of the 6.
source "$(dirname "$0")/lib.sh" "$@"
RT=rp-counts-key-1-repartition

# topology PARTITIONS_SETTING OUT
topology() {
    cat >"$2" <<YAML
metadata: {name: rp}
topics:
  - {name: events, partitions: 4}
  - {name: counts}
deployments:
  - name: counts
    input: events
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - key: {expr: user$1}
      - aggregate: count()
    output: counts
YAML
}
topology ", partitions: 6" "$WORK/six.yaml"
topology "" "$WORK/default.yaml"
start_broker "$WORK/six.yaml"
[ "$BROKER_KIND" = embedded ] || kt create-topic "$ADDR" "$RT" 6 >/dev/null

up refused 60 "$WORK/default.yaml" --exit-at-end
[ "$RC" = 2 ] || fail "up exited with status $RC, expected 2 (the repartition topic has 6 partitions)"
grep -F "default.yaml:10:9: error[SR0218]: the repartition topic '$RT' after this re-key has 6 partitions" \
    "$WORK/refused.log" || fail "no error at the key step: $(head -3 "$WORK/refused.log")"
grep -qF "but the file gives it 4" "$WORK/refused.log" || fail "the file's count is not given"
grep -qF "set partitions: 6 on this key step" "$WORK/refused.log" || fail "the fix is not given"

"$PYTHON" - "$WORK/events.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(60):
        f.write(json.dumps({"key": "e%d" % i, "value": {"user": "u%d" % (i % 5)}}) + "\n")
PY
kt produce "$ADDR" events "$WORK/events.jsonl" >/dev/null
up six 90 "$WORK/six.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "up with partitions: 6 exited with status $RC"
expect_summary six counts/2 60 60 0 0 60
kt read "$ADDR" "$RT" "$WORK/rt.jsonl" >/dev/null
kt read "$ADDR" counts "$WORK/counts.jsonl" >/dev/null
"$PYTHON" - "$WORK/rt.jsonl" "$WORK/counts.jsonl" <<'PY'
import json, sys
from collections import defaultdict
parts = defaultdict(set)
for ln in open(sys.argv[1]):
    r = json.loads(ln)
    parts[r["key"]].add(r["partition"])
bad = {k: sorted(p) for k, p in parts.items() if len(p) != 1 or not 0 <= min(p) < 6}
if bad or len(parts) != 5:
    sys.exit("FAIL: users in the 6 partitions: %s" % dict(parts))
last = {}
for ln in open(sys.argv[2]):
    r = json.loads(ln)
    last[r["key"]] = max(last.get(r["key"], 0), r["value"]["value"])
if last != {"u%d" % u: 12 for u in range(5)}:
    sys.exit("FAIL: final counts %s, expected 12 per user" % last)
print("6 partitions: one per user at most, 12 records each")
PY
echo "PASS"
