#!/usr/bin/env bash
# Runs an example pipeline over its sample data with `streamrun run --envelope` and checks its
# outputs with an independent reference, which is given OUTDIR as its last argument.
# usage: check_example.sh STREAMRUN PIPELINE OUTDIR MISMATCH [--corrupt] -- REFERENCE ARGS...
#   --corrupt: the reference is run with --corrupt (one expectation changed); the check passes
#   only when it fails and prints a line starting with MISMATCH.
set -u
bin=$1 pipeline=$2 out=$3 mismatch=$4
shift 4
mode=
if [ "${1:-}" = --corrupt ]; then
    mode=--corrupt
    shift
fi
[ "${1:-}" = -- ] && shift
rm -rf "$out" && mkdir -p "$out"
"$bin" run "$pipeline" --out "$out" --envelope --quiet || exit 1
if [ "$mode" = --corrupt ]; then
    "$@" "$out" --corrupt >"$out/report.txt"
    rc=$?
    cat "$out/report.txt"
    [ $rc -ne 77 ] || exit 77 # the reference is skipped (scikit-learn missing)
    if [ $rc -ne 1 ] || ! grep -q "^$mismatch" "$out/report.txt"; then
        echo "the changed expectation was not reported (exit $rc)"
        exit 1
    fi
    echo "the changed expectation was reported"
    exit 0
fi
"$@" "$out"
