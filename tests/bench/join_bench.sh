#!/usr/bin/env bash
# Join benchmark (no Kafka): the stateless phone normalisation against the same with a
# stream–table join (a lookup of every accelerometer row's device), run by `streamrun run` over
# the same N generated messages, in turns, by window_bench.sh over tests/bench/join_bench.yaml:
# CPU and elapsed time per message (and messages/s), the median of ROUNDS runs, and the ratio
# joined / stateless (the target: at most 2.0); CALLGRIND=M also counts instructions over the
# first M messages. Two comparisons: the lookup in a file table (`joined`), then in a
# co-partitioned topic table (`joined-topic`, the messages keyed by deviceId and the table's
# records read first; the stateless pipeline then reads the same keyed messages).
# usage: [CALLGRIND=M] tests/bench/join_bench.sh [STREAMRUN_BINARY] [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
table=$(mktemp)
trap 'rm -f "$table"' EXIT
python3 -c 'import json, sys
for line in sys.stdin:
    print(json.dumps({"key": json.loads(line)["deviceId"], "value": json.loads(line)}))' \
    < tests/bench/devices.jsonl > "$table"
echo "== the lookup in a file table"
BENCH_FILE=tests/bench/join_bench.yaml WINDOWED=joined bash tests/bench/window_bench.sh "$@"
echo "== the lookup in a co-partitioned topic table"
BENCH_FILE=tests/bench/join_bench.yaml WINDOWED=joined-topic KEYED=1 TABLE_IN=devices="$table" \
    bash tests/bench/window_bench.sh "$@"
