#!/usr/bin/env bash
# Microbenchmark of the engine alone (no Kafka): `streamrun run` of the phone normalisation over a
# large input made by replicating a sample telemetry file, with peak memory from /usr/bin/time.
# usage: tests/bench/run_bench.sh [STREAMRUN_BINARY] [COPIES] [INPUT_JSONL]
# Defaults: build/streamrun, 1000 copies, ../shared/data/demo_stream.json if present (the
# tutorial's messages, ~1.67 KB each) else pipelines/data/phone-telemetry.jsonl.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/streamrun}
copies=${2:-1000}
input=${3:-}
if [ -z "$input" ]; then
  if [ -f ../shared/data/demo_stream.json ]; then input=../shared/data/demo_stream.json
  else input=pipelines/data/phone-telemetry.jsonl; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$copies"); do cat "$input"; done > "$work/in.jsonl"
n=$(wc -l < "$work/in.jsonl")
bytes=$(wc -c < "$work/in.jsonl")
echo "input: $n messages, $((bytes / n)) bytes each on average, from $input"
for run in 1 2 3; do
  /usr/bin/time -f "%e s elapsed, %U s user, %S s system, %M KB peak RSS" \
    "$bin" run pipelines/phone-normalization.yaml --only data-normalization \
    --in raw-data="$work/in.jsonl" --out "$work/out" 2>&1 | grep -E "records/s|peak RSS|data-normalization"
done
echo "outputs: $(wc -l < "$work/out/table-data.jsonl") rows"
