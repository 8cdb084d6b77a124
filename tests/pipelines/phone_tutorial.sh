#!/usr/bin/env bash
# Runs pipelines/phone-normalization.yaml over the tutorial's demo stream and checks that it yields
# exactly the rows the tutorial's Python logic yields (values compared as JSON; `time` exact).
# Exit 77 (skipped) when ../shared/data/demo_stream.json is not there.
set -euo pipefail
bin=$1
demo=$(cd "$(dirname "$0")/../../.." && pwd)/shared/data/demo_stream.json
if [ ! -f "$demo" ]; then
  echo "skipped: $demo is absent"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
TELEMETRY_FILE=$demo "$bin" run pipelines/phone-normalization.yaml --out "$out" --envelope
/usr/bin/python3 - "$demo" "$out/table-data.jsonl" <<'PY'
import json, sys
demo, got_path = sys.argv[1], sys.argv[2]
want = []
for line in open(demo):
    msg = json.loads(line)
    for reading in msg["payload"]:
        row = {reading["name"] + "-" + k: v for k, v in reading["values"].items()}
        row["time"] = reading["time"]
        if "accelerometer-x" not in row:
            continue
        row = {k: row[k] for k in ["time", "accelerometer-x", "accelerometer-y", "accelerometer-z"]}
        row["accelerometer-total"] = (abs(row["accelerometer-x"]) + abs(row["accelerometer-y"])
                                      + abs(row["accelerometer-z"]))
        if row["accelerometer-total"] > 50:
            want.append((msg["deviceId"], row))
got = []
for line in open(got_path):
    env = json.loads(line)
    got.append((env["key"], env["value"]))
canon = lambda rows: sorted(json.dumps(r, sort_keys=True) for r in rows)
ok = canon(want) == canon(got)
ok_time = all(isinstance(v["time"], int) for _, v in got)
print(f"tutorial rows: {len(want)}, streamrun rows: {len(got)}, equal: {ok}, integer times: {ok_time}")
print(f"{int(ok and ok_time and len(want) == 42)} passed, {int(not (ok and ok_time and len(want) == 42))} failed")
sys.exit(0 if ok and ok_time and len(want) == 42 else 1)
PY
