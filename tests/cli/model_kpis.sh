#!/usr/bin/env bash
# The model step's KPIs in the summary of `streamrun run`: one line per variant (per package
# without variants) with the records scored and not scored, those with no split value, the label
# counts and the mean probability of the second class (a classifier) or the values' mean, min and
# max (a regressor), and the scoring latency. Every number but the latency is compared exactly
# with an independent Python computation over the same records (the variants from FNV-1a, as
# tests/model/split_check.py); the latency by its pattern. Then `up` (on the embedded broker)
# over the same records must print the same lines. Prints "N passed, N failed".
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
pk=$PWD/tests/model/packages
py=$(command -v /usr/bin/python3 || command -v python3)

cat > "$work/kpis.yaml" <<EOF
topics: [in, out, errors]
deployments:
  - name: ab
    input: in
    deadLetter: errors
    pipeline:
      - model:
          variants:
            - {name: champion, package: $pk/alert, weight: 3}
            - {name: challenger, package: $pk/alert-v2, weight: 1}
          threshold: 0.25
      - model: {package: $pk/alert-score, as: score}
    output: out
EOF

# the records and, from them, the expected lines (without the latency)
"$py" - "$work" "$pk" <<'EOF'
import json, math, random, sys
sys.path.insert(0, "tests/model")
import split_check
work, pk = sys.argv[1], sys.argv[2]
split_check.VARIANTS[:] = [("champion", "alert", 3), ("challenger", "alert-v2", 1)]
models = {  # z of each logistic package (tests/model/packages/*/model.json)
    "champion": lambda f: 0.25 * f[0] - 0.5 * f[1] + 0.125 * f[2] + 1.0 * f[3] - 0.75 * f[4] - 1.0,
    "challenger": lambda f: 0.5 * f[0] - 2.0,
}
rnd = random.Random(7)
recs, kp = [], {v: {"scored": 0, "failed": 0, "unsplit": 0, "labels": [0, 0], "p": 0.0}
                for v in models}
values = []
rr = 0
for i in range(1200):
    f = [rnd.randrange(0, 10) for _ in range(5)]
    if any(m(f) == 0 for m in models.values()):
        continue  # no ties between the classes: the label is then plain
    key = None if i % 100 == 7 else f"user-{rnd.randrange(400)}"
    value = dict(zip(["f1", "f2", "f3", "f4", "f5"], f))
    if i % 150 == 11:
        del value["f5"]  # not scored by its variant
    recs.append({"key": key, "value": value})
    if key is None:
        v = ["champion"] * 3 + ["challenger"]
        v = v[rr % 4]
        rr += 1
        kp[v]["unsplit"] += 1
    else:
        v = split_check.variant_of(key)
    if "f5" not in value:
        kp[v]["failed"] += 1
        continue
    p = 1 / (1 + math.exp(-models[v](f)))
    kp[v]["scored"] += 1
    kp[v]["labels"][1 if p > 0.5 else 0] += 1
    kp[v]["p"] += p
    values.append(1.0 * f[0] + 2.0 * f[1] + 0.5)
with open(f"{work}/in.jsonl", "w") as out:
    for r in recs:
        out.write(json.dumps(r) + "\n")
with open(f"{work}/expected", "w") as out:
    for v, pkg in (("champion", "alert"), ("challenger", "alert-v2")):
        k = kp[v]
        line = f"  model step 1 ({pk}/{pkg}, {v}): {k['scored']:,} scored, {k['failed']:,} not scored"
        if k["unsplit"]:
            line += f", {k['unsplit']:,} with no split value"
        line += f"; normal {k['labels'][0]:,}, alert {k['labels'][1]:,}"
        line += "; p(alert) mean %.3g; " % (k["p"] / k["scored"])
        out.write(line + "\n")
    n = len(values)
    out.write(f"  model step 2 ({pk}/alert-score): {n:,} scored, 0 not scored; value mean "
              + "%.6g, min %.6g, max %.6g; " % (math.fsum(values) / n, min(values), max(values))
              + "\n")
    out.write(f"{len(recs)} in\n")
EOF
[ -s "$work/expected" ] || { echo "FAIL: the expectations were not computed"; exit 1; }

check "run with variants" expect_exit 0 "$bin" run "$work/kpis.yaml" --in in="$work/in.jsonl" --out "$work/o" --envelope
n=$(tail -1 "$work/expected" | cut -d' ' -f1)
dead=$(wc -l < "$work/o/errors.jsonl")
check "the summary line" has_text "$work/stderr" "ab: $n in ($((n - dead)) delivered, 0 filtered, $dead dead-lettered), $((n - dead)) out"
check "three KPI lines" test "$(grep -c '^  model step ' "$work/stderr")" = 3
lat='[0-9.]+(e[-+][0-9]+)? (µs|ms) per score \(p99 [0-9.]+(e[-+][0-9]+)? (µs|ms)\)$'
i=0
while IFS= read -r want; do
    i=$((i + 1))
    [ $i -le 3 ] || break
    got=$(grep '^  model step ' "$work/stderr" | sed -n "${i}p")
    check "KPI line $i: counts and distribution" test "${got:0:${#want}}" = "$want"
    check "KPI line $i: latency" grep -Eq -- "^.{${#want}}$lat" <<<"$got"
    [ "${got:0:${#want}}" = "$want" ] || printf '  got:    %s\n  wanted: %s\n' "$got" "$want"
done < "$work/expected"

# `up` prints the same lines under its summary: a source deployment feeds the records (keyed by
# user) to the model deployment through the embedded broker; the counts and distributions must be
# those `run` gives over the same source.
"$py" - "$work" <<'EOF'
import json, sys
with open(f"{sys.argv[1]}/in.jsonl") as f, open(f"{sys.argv[1]}/src.jsonl", "w") as out:
    for line in f:
        r = json.loads(line)
        if r["key"] is not None:
            out.write(json.dumps(dict(r["value"], user=r["key"])) + "\n")
EOF
{
    echo "topics: [in, out, errors]"
    echo "deployments:"
    echo "  - name: feed"
    echo "    source: {file: $work/src.jsonl, format: jsonl, key: user}"
    echo "    output: in"
    sed -n '/^  - name: ab/,$p' "$work/kpis.yaml"
} > "$work/up.yaml"
check "run from the source" expect_exit 0 "$bin" run "$work/up.yaml" --out "$work/o3"
grep '^  model step ' "$work/stderr" | sed -E "s/; $lat//" > "$work/run-kpis"
check "three KPI lines from run" test "$(wc -l < "$work/run-kpis")" = 3
timeout -k 5 60 "$bin" broker "$work/up.yaml" --address-file "$work/addr" 2>"$work/broker.log" &
broker=$!
for _ in $(seq 200); do [ -s "$work/addr" ] && break; sleep 0.05; done
check "up" expect_exit 0 timeout -k 5 60 "$bin" up "$work/up.yaml" --broker "$(head -1 "$work/addr")" --exit-at-end
kill "$broker" 2>/dev/null
wait "$broker" 2>/dev/null
grep '^  model step ' "$work/stderr" | sed -E "s/; $lat//" > "$work/up-kpis"
check "up's KPI lines are run's" cmp "$work/run-kpis" "$work/up-kpis"
check "up's latency" test "$(grep -cE "^  model step .*; $lat" "$work/stderr")" = 3

# a step that scored nothing says so, without distributions
: > "$work/empty.jsonl"
check "run with no records" expect_exit 0 "$bin" run "$work/kpis.yaml" --in in="$work/empty.jsonl" --out "$work/o2" --envelope
check "no scores" has_text "$work/stderr" "  model step 1 ($pk/alert, champion): 0 scored, 0 not scored"
check "nothing after the counts" grep -qx "  model step 2 ($pk/alert-score): 0 scored, 0 not scored" "$work/stderr"
finish
