#!/usr/bin/env bash
# 0030 — a deployment reading 17 input topics (more than any fixed per-input table could hold):
# one record on each, `up --exit-at-end` processes all 17 and commits them, so a second run reads
# none; the one on the 17th topic goes through like the others.
source "$(dirname "$0")/lib.sh" "$@"
NIN=17

{
    echo "metadata: {name: many}"
    echo "topics:"
    for i in $(seq -w 1 $NIN); do echo "  - {name: in-$i, partitions: 2}"; done
    echo "  - {name: out, partitions: 2}"
    echo "deployments:"
    echo "  - name: merge"
    echo "    input: [$(seq -s, -f 'in-%02g' 1 $NIN)]"
    echo "    pipeline:"
    echo "      - set: {from: \$topic}"
    echo "    output: out"
} >"$WORK/many.yaml"
"$STREAMRUN" validate "$WORK/many.yaml" || fail "the file with $NIN inputs does not validate"

start_broker "$WORK/many.yaml"
for i in $(seq -w 1 $NIN); do
    echo "{\"key\": \"k$i\", \"value\": {\"n\": $((10#$i))}}" >"$WORK/in-$i.jsonl"
    kt produce "$ADDR" "in-$i" "$WORK/in-$i.jsonl"
done

up run1 60 "$WORK/many.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
! grep -n "runtime error" "$WORK/run1.log" || fail "the first run reported undefined behaviour"
expect_summary run1 merge $NIN $NIN 0 0 $NIN
kt read "$ADDR" out "$WORK/out.jsonl"
"$PYTHON" - "$WORK/out.jsonl" "$NIN" <<'PY'
import json, sys
got = sorted((r["key"], r["value"]["n"], r["value"]["from"]) for r in map(json.loads, open(sys.argv[1])))
n = int(sys.argv[2])
want = [("k%02d" % i, i, "in-%02d" % i) for i in range(1, n + 1)]
if got != want:
    print("FAIL: out holds %s, expected %s" % (got, want))
    sys.exit(1)
print("out holds one record from each of the %d inputs" % n)
PY

up run2 60 "$WORK/many.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
expect_summary run2 merge 0 0 0 0 0
echo "PASS"
