#!/usr/bin/env bash
# Window benchmark (no Kafka): the stateless phone normalisation and the windowed one (10 s
# windows every 1 s merging every sensor's latest value) of tests/bench/window_bench.yaml, run
# by `streamrun run` over the same N generated telemetry messages (tests/tools/gen_telemetry.py,
# seeded: the same file every time), in turns. Prints, per pipeline, the CPU time (user +
# system) and the elapsed time per input message, the median of ROUNDS runs, and the ratio
# windowed / stateless, which the project's target wants at most 2.0.
# With CALLGRIND=M (valgrind installed) it also counts the instructions of both over the first M
# messages under callgrind: a measure a busy machine does not change. WINDOWED names the windowed
# deployment (default windowed: merge; windowed-mean, windowed-delta: the same windows of mean or
# delta).
# usage: [CALLGRIND=M] [WINDOWED=DEPLOYMENT] tests/bench/window_bench.sh [STREAMRUN_BINARY] [N] [ROUNDS]
# Defaults: build/streamrun, 50,000 messages (~17 readings each), 5 rounds.
# BENCH_FILE=FILE runs another file's `stateless` deployment against its WINDOWED one (that is
# how tests/bench/join_bench.sh compares the stream–table joins); records out are counted over
# every topic but `errors`. KEYED=1 gives both the messages as envelopes keyed by deviceId
# (--envelope), and TABLE_IN=TOPIC=FILE (an envelope file) is read before them, by both.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/streamrun}
n=${2:-50000}
rounds=${3:-5}
win=${WINDOWED:-windowed}
file=${BENCH_FILE:-tests/bench/window_bench.yaml}
py=$(command -v python3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" tests/tools/gen_telemetry.py "$n" > "$work/in.jsonl"
extra=()
if [ -n "${KEYED:-}" ]; then
  "$py" -c 'import json, sys
for line in sys.stdin:
    print(json.dumps({"key": json.loads(line)["deviceId"], "value": json.loads(line)}))' \
    < "$work/in.jsonl" > "$work/keyed.jsonl"
  mv "$work/keyed.jsonl" "$work/in.jsonl"
  extra=(--envelope)
fi
[ -z "${TABLE_IN:-}" ] || extra+=(--in "$TABLE_IN")
echo "input: $n messages, $(($(wc -c < "$work/in.jsonl") / n)) bytes each on average" \
     "(tests/tools/gen_telemetry.py $n); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  order="stateless $win"
  [ $((round % 2)) -eq 0 ] && order="$win stateless"  # what runs first meets a colder cache
  for dep in $order; do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" run "$file" \
      --only "$dep" "${extra[@]}" --in raw-data="$work/in.jsonl" --out "$work/out-$dep" --quiet
    read -r el us sy rss < "$work/time"
    echo "$el $us $sy $rss" >> "$work/$dep.times"
  done
done
"$py" - "$work" "$n" "$win" <<'PY'
import statistics, sys, os
work, n, win = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = {}
for dep in ("stateless", win):
    rows = [list(map(float, l.split())) for l in open(os.path.join(work, dep + ".times"))]
    cpu = [u + s for _, u, s, _ in rows]
    el = [e for e, _, _, _ in rows]
    rss = max(r for _, _, _, r in rows)
    out = os.path.join(work, "out-" + dep)
    outs = sum(sum(1 for _ in open(os.path.join(out, f)))
               for f in os.listdir(out) if f.endswith(".jsonl") and f != "errors.jsonl")
    res[dep] = (statistics.median(cpu) / n * 1e6, statistics.median(el) / n * 1e6)
    print(f"{dep:10s} CPU {res[dep][0]:6.2f} µs/message (runs: {', '.join(f'{c:.2f}' for c in cpu)} s)"
          f"  elapsed {res[dep][1]:6.2f} µs/message ({1e6 / res[dep][1]:,.0f} messages/s)  peak RSS {rss / 1024:.1f} MB  {outs} records out")
print(f"{win} / stateless: {res[win][0] / res['stateless'][0]:.2f} by CPU time, "
      f"{res[win][1] / res['stateless'][1]:.2f} by elapsed time (target: at most 2.0)")
PY
if [ -n "${CALLGRIND:-}" ]; then
  head -n "$CALLGRIND" "$work/in.jsonl" > "$work/head.jsonl"
  for dep in stateless "$win"; do
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$dep" "$bin" run \
      "$file" --only "$dep" "${extra[@]}" --in raw-data="$work/head.jsonl" \
      --out "$work/cg-$dep" --quiet 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' > "$work/ir.$dep"
  done
  s=$(cat "$work/ir.stateless") w=$(cat "$work/ir.$win")
  echo "instructions over $CALLGRIND messages (callgrind): stateless $((s / CALLGRIND)) per" \
       "message, $win $((w / CALLGRIND)); ratio $(awk -v a="$w" -v b="$s" 'BEGIN {printf "%.2f", a / b}')"
fi
