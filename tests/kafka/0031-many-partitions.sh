#!/usr/bin/env bash
# 0031 — an input topic with 4,100 partitions (validate accepts up to 100,000): records on the
# last partitions (4096 and above, past any fixed per-partition table) are processed and
# committed like those on partition 0, so a second run reads none.
source "$(dirname "$0")/lib.sh" "$@"
P=4100

cat >"$WORK/wide.yaml" <<YAML
metadata: {name: wide}
topics:
  - {name: in, partitions: $P}
  - {name: out}
deployments:
  - name: copy
    input: in
    pipeline:
      - set: {p: \$partition}
    output: out
YAML
"$STREAMRUN" validate "$WORK/wide.yaml" || fail "the file with $P partitions does not validate"

start_broker "$WORK/wide.yaml"
for p in 0 4095 4096 4099; do
    echo "{\"key\": \"k$p\", \"value\": {\"n\": $p}, \"partition\": $p}"
done >"$WORK/in.jsonl"
kt produce "$ADDR" in "$WORK/in.jsonl"

up run1 100 "$WORK/wide.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
expect_summary run1 copy 4 4 0 0 4
kt read "$ADDR" out "$WORK/out.jsonl"
"$PYTHON" - "$WORK/out.jsonl" <<'PY'
import json, sys
got = sorted((r["value"]["n"], r["value"]["p"]) for r in map(json.loads, open(sys.argv[1])))
want = [(p, p) for p in (0, 4095, 4096, 4099)]
if got != want:
    print("FAIL: out holds %s, expected %s" % (got, want))
    sys.exit(1)
print("out holds the records of partitions 0, 4095, 4096 and 4099")
PY

up run2 100 "$WORK/wide.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
expect_summary run2 copy 0 0 0 0 0
echo "PASS"
