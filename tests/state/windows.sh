#!/bin/bash
# Runs tests/state/windows.yaml over the telemetry sample and checks every output topic against
# the independent reference windows_reference.py.
# usage: windows.sh STREAMRUN PYTHON OUTDIR [--corrupt]   (--corrupt: one expectation changed;
#                                                          the comparison must fail on it)
#        windows.sh STREAMRUN PYTHON OUTDIR --example     pipelines/phone-windows.yaml over the
#            sample, and over the tutorial's own data (../shared/data/demo_stream.json) when present
set -u
bin=$1 py=$2 out=$3 mode=${4:-}
dir=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out"
if [ "$mode" = --example ]; then
    root=$dir/../..
    for data in "$root/pipelines/data/phone-telemetry.jsonl" "$root/../shared/data/demo_stream.json"; do
        [ -f "$data" ] || { echo "no $data: skipped"; continue; }
        data=$(cd "$(dirname "$data")" && pwd)/$(basename "$data")
        echo "over $data:"
        rm -rf "$out/example" && mkdir -p "$out/example"
        TELEMETRY_FILE=$data "$bin" run "$root/pipelines/phone-windows.yaml" --out "$out/example" \
            --envelope --quiet || exit 1
        "$py" "$dir/windows_reference.py" "$data" "$out/example" --example || exit 1
    done
    exit 0
fi
"$bin" run "$dir/windows.yaml" --out "$out" --envelope --quiet || exit 1
if [ "$mode" = --corrupt ]; then
    "$py" "$dir/windows_reference.py" "$dir/../../pipelines/data/phone-telemetry.jsonl" "$out" \
        --corrupt >"$out/report.txt"
    rc=$?
    cat "$out/report.txt"
    if [ $rc -ne 1 ] || ! grep -q '^hopping record 7:' "$out/report.txt"; then
        echo "the changed expectation was not reported (exit $rc)"
        exit 1
    fi
    echo "the changed expectation was reported"
    exit 0
fi
"$py" "$dir/windows_reference.py" "$dir/../../pipelines/data/phone-telemetry.jsonl" "$out"
