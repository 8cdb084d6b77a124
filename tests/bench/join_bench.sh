#!/usr/bin/env bash
# Join benchmark (no Kafka): the stateless phone normalisation and the same with a stream–table
# join (a lookup of every accelerometer row's device in a table) of tests/bench/join_bench.yaml,
# run by `streamrun run` over the same N generated messages, in turns, by window_bench.sh:
# CPU and elapsed time per message (and messages/s), the median of ROUNDS runs, and the ratio
# joined / stateless (the target: at most 2.0); CALLGRIND=M also counts instructions over the
# first M messages. JOINED names the joined deployment (default joined).
# usage: [CALLGRIND=M] [JOINED=DEPLOYMENT] tests/bench/join_bench.sh [STREAMRUN_BINARY] [N] [ROUNDS]
cd "$(dirname "$0")/../.." || exit 2
BENCH_FILE=tests/bench/join_bench.yaml WINDOWED=${JOINED:-joined} exec bash tests/bench/window_bench.sh "$@"
