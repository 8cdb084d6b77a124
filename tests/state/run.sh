#!/bin/bash
# Runs the reference (reference.py) over random streams and checks runner/state/ against it.
# usage: run.sh STATE_CHECK PYTHON OUTDIR          every seed must match
#        run.sh STATE_CHECK PYTHON OUTDIR --corrupt  one expectation changed: the checker must
#                                                    report exactly that case and fail
set -u
check=$1 py=$2 out=$3 mode=${4:-}
dir=$(dirname "$0")
mkdir -p "$out"
if [ "$mode" = --corrupt ]; then
    "$py" "$dir/reference.py" 7 200 --corrupt >"$out/state-corrupt.jsonl" || exit 1
    "$check" "$out/state-corrupt.jsonl" 2>"$out/state-corrupt.err"
    rc=$?
    cat "$out/state-corrupt.err"
    if [ $rc -ne 1 ] || [ "$(grep -c ': count: ' "$out/state-corrupt.err")" -ne 1 ] ||
        [ "$(wc -l <"$out/state-corrupt.err")" -ne 1 ]; then
        echo "the checker did not report exactly the corrupted case (exit $rc)"
        exit 1
    fi
    echo "the corrupted case was reported"
    exit 0
fi
for seed in 1 2 3 4 5 6 7 8; do
    "$py" "$dir/reference.py" $seed 500 >"$out/state-$seed.jsonl" || exit 1
    echo -n "seed $seed: "
    "$check" "$out/state-$seed.jsonl" || exit 1
done
