#!/usr/bin/env bash
# Model benchmark in a pipeline (no Kafka): `streamrun run` over the same N records
# (build/model_bench --write: 5 integer features, 5 numbers, a 20-word text each) through
# tests/bench/model_step_bench.yaml's deployments, in turns: `passthrough` (select the id), then
# the same after a model step — a logistic regression over 5 features, a random forest of 100
# trees of depth 8, a TF-IDF text classifier. Prints per deployment the CPU time (user + system)
# per record, the median of ROUNDS runs, and what the model step adds per record over the
# passthrough. The records scored are checked: every record out, none dead-lettered.
# usage: tests/bench/model_step_bench.sh [STREAMRUN_BINARY] [N] [ROUNDS]
# Defaults: build/streamrun, 200,000 records, 5 rounds; build/model_bench beside the binary
# (cmake --build --preset release --target model_bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-build/streamrun}")
n=${2:-200000}
rounds=${3:-5}
mb=$(dirname "$bin")/model_bench
[ -x "$mb" ] || { echo "no $mb: cmake --build --preset release --target model_bench" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$mb" --write "$work" "$n"
cp tests/bench/model_step_bench.yaml "$work/bench.yaml"
"$bin" validate "$work/bench.yaml" >/dev/null 2>&1 || "$bin" validate "$work/bench.yaml"
deps="passthrough logistic forest text"
echo "input: $n records, $(($(wc -c < "$work/records.jsonl") / n)) bytes each;" \
     "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  order=$deps
  [ $((round % 2)) -eq 0 ] && order=$(echo "$deps" | tr ' ' '\n' | tac | tr '\n' ' ')
  for dep in $order; do
    rm -rf "$work/out"
    # CPU time from getrusage (microseconds: /usr/bin/time prints hundredths of a second)
    python3 -c 'import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.monotonic() - t, r.ru_utime, r.ru_stime, r.ru_maxrss)' \
      "$bin" run "$work/bench.yaml" --only "$dep" --in records="$work/records.jsonl" \
      --out "$work/out" --quiet >> "$work/$dep.times"
    got=$(wc -l < "$work/out/out.jsonl")
    [ "$got" = "$n" ] || { echo "$dep: $got records out of $n" >&2; exit 1; }
    [ ! -s "$work/out/errors.jsonl" ] || { echo "$dep: dead letters:" >&2; head -3 "$work/out/errors.jsonl" >&2; exit 1; }
  done
done
python3 - "$work" "$n" $deps <<'PY'
import os, statistics, sys
work, n, deps = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
med = {}
for dep in deps:
    rows = [list(map(float, l.split())) for l in open(os.path.join(work, dep + ".times"))]
    med[dep] = statistics.median(u + s for _, u, s, _ in rows)
    rss = max(r for *_, r in rows) / 1024
    extra = "" if dep == "passthrough" else \
        f"; the model step adds {(med[dep] - med['passthrough']) / n * 1e9:8.0f} ns per record"
    print(f"{dep:12} {med[dep] / n * 1e9:8.0f} ns CPU per record (median of {len(rows)}), "
          f"peak RSS {rss:.1f} MB{extra}")
PY
