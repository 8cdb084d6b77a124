#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time over its seed corpus; fails on any crash or leak.
set -euo pipefail
# usage: run_fuzz.sh FUZZER CORPUS_DIR [SECONDS] [EXTRA_SEED_FILE...]
bin=$1 corpus=$2 secs=${3:-20}
shift 3 || shift $#
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
for f in "$@"; do cp "$f" "$work/seed-$(basename "$f")"; done
"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | tail -5
