#!/usr/bin/env bash
# Runs pipelines/sensor-features.yaml over its sample (pipelines/data/sensors.jsonl) and checks
# SX, SY, SZ, FA, FI and FD against the independent reference sensor_features_reference.py.
# usage: sensor_features.sh STREAMRUN PYTHON OUTDIR [--corrupt]   (--corrupt: one expectation
#        changed; the comparison must fail on it)
set -u
bin=$1 py=$2 out=$3 mode=${4:-}
dir=$(cd "$(dirname "$0")" && pwd)
root=$dir/../..
rm -rf "$out" && mkdir -p "$out"
"$bin" run "$root/pipelines/sensor-features.yaml" --out "$out" --envelope --quiet || exit 1
if [ "$mode" = --corrupt ]; then
    "$py" "$dir/sensor_features_reference.py" "$root/pipelines/data/sensors.jsonl" "$out" \
        --corrupt >"$out/report.txt"
    rc=$?
    cat "$out/report.txt"
    if [ $rc -ne 1 ] || ! grep -q '^FI record ' "$out/report.txt"; then
        echo "the changed expectation was not reported (exit $rc)"
        exit 1
    fi
    echo "the changed expectation was reported"
    exit 0
fi
"$py" "$dir/sensor_features_reference.py" "$root/pipelines/data/sensors.jsonl" "$out"
