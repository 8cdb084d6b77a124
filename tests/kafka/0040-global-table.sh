#!/usr/bin/env bash
# 0040 — a global topic table under `up`: `enrich` looks each reading's device up in the table of
# topic `devices` by a field (any key: the table is not co-partitioned; its topic even has another
# partition count). Every start reads the whole topic into the process's table before processing
# (so a restart restores it), and a reader thread keeps it up to date while the run goes on:
#   1. `up --exit-at-end` over 20 devices (one deleted by a tombstone) and 41 readings: 38 find
#      their device, the deleted one's two and an unknown one are dead-lettered ("no match");
#      a file table looked up beside it by another deployment finds 40 and counts the one it
#      does not have in its summary (a lookup step with no state has no changelog);
#   2. a second run, left running: a device changed and a new one are produced while it runs,
#      then readings of them, which see the new values; stopped with SIGTERM.
source "$(dirname "$0")/lib.sh" "$@"
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: global}
topics:
  - {name: readings, partitions: 4}
  - {name: devices, partitions: 3}
  - {name: enriched, partitions: 4}
  - errors
  - {name: by-file, partitions: 4}
tables:
  - {name: devices, topic: devices, global: true}
  - {name: regions, file: regions.csv, key: device}
deployments:
  - name: enrich
    input: readings
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - lookup: {table: devices, key: device, fields: {site: site}, unmatched: dead-letter}
    output: enriched
  - name: file
    input: readings
    pipeline:
      - lookup: {table: regions, key: device, fields: {region: region}}
    output: by-file
YAML
{ echo "device,region"; for i in $(seq -w 0 19); do echo "d$i,g$i"; done; } >"$WORK/regions.csv"
check_valid "$WORK/t.yaml"
start_broker "$WORK/t.yaml"

"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
with open(w + "/devices-1.jsonl", "w") as f:
    for i in range(20):
        f.write(json.dumps({"key": "d%02d" % i, "value": {"site": "s%02d" % i}}) + "\n")
    f.write(json.dumps({"key": "d05", "tombstone": True}) + "\n")
with open(w + "/readings-1.jsonl", "w") as f:
    for i in range(40):
        f.write(json.dumps({"key": "r%02d" % i, "value": {"device": "d%02d" % (i % 20)}}) + "\n")
    f.write(json.dumps({"key": "r99", "value": {"device": "d99"}}) + "\n")
with open(w + "/devices-2.jsonl", "w") as f:
    f.write(json.dumps({"key": "d01", "value": {"site": "moved"}}) + "\n")
    f.write(json.dumps({"key": "d99", "value": {"site": "new"}}) + "\n")
with open(w + "/readings-2.jsonl", "w") as f:
    f.write(json.dumps({"key": "x1", "value": {"device": "d01"}}) + "\n")
    f.write(json.dumps({"key": "x2", "value": {"device": "d99"}}) + "\n")
PY

kt produce "$ADDR" devices "$WORK/devices-1.jsonl" >/dev/null
kt produce "$ADDR" readings "$WORK/readings-1.jsonl" >/dev/null
up run1 60 "$WORK/t.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "run 1 exited with status $RC: $(tail -3 "$WORK/run1.log")"
grep -q "table 'devices': 19 keys read from topic devices" "$WORK/run1.log" ||
    fail "run 1 did not read the table first: $(head -5 "$WORK/run1.log")"
expect_summary run1 enrich 41 38 0 3 38
expect_summary run1 file 41 40 1 0 40
summary run1 file | grep -qF ", 1 unmatched (lookup step 1, table regions)" ||
    fail "run 1: the file lookup's unmatched record is not counted: $(summary run1 file)"

up_bg run2 60 "$WORK/t.yaml" --only enrich
for _ in $(seq 100); do
    grep -q "keys read from topic devices" "$WORK/run2.log" && break
    sleep 0.1
done
grep -q "table 'devices': 19 keys read" "$WORK/run2.log" || fail "run 2 did not restore the table"
kt produce "$ADDR" devices "$WORK/devices-2.jsonl" >/dev/null
sleep 2 # the reader thread applies them while the run waits for input
kt produce "$ADDR" readings "$WORK/readings-2.jsonl" >/dev/null
kt wait "$ADDR" enriched 40 --isolation read_uncommitted --timeout 30 >/dev/null
pid=$(pgrep -P "$UP_PID") || fail "run 2 exited early: $(tail -3 "$WORK/run2.log")"
kill -TERM "$pid"
wait "$UP_PID" || fail "run 2 exited with status $? after SIGTERM"
expect_summary run2 enrich 2 2 0 0 2

kt read "$ADDR" enriched "$WORK/enriched.jsonl" >/dev/null
kt read "$ADDR" errors "$WORK/errors.jsonl" >/dev/null
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
got = sorted((r["key"], r["value"]["device"], r["value"]["site"])
             for r in map(json.loads, open(w + "/enriched.jsonl")))
want = sorted([("r%02d" % i, "d%02d" % (i % 20), "s%02d" % (i % 20)) for i in range(40)
               if i % 20 != 5] + [("x1", "d01", "moved"), ("x2", "d99", "new")])
if got != want:
    sys.exit("FAIL: enriched differs: missing %s, unexpected %s"
             % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
dead = sorted((r["key"], dict(r["headers"])["streamrun.error"])
              for r in map(json.loads, open(w + "/errors.jsonl")))
want = sorted([("r05", "no match (lookup step 1): table 'devices' has no key 'd05'"),
               ("r25", "no match (lookup step 1): table 'devices' has no key 'd05'"),
               ("r99", "no match (lookup step 1): table 'devices' has no key 'd99'")])
if dead != want:
    sys.exit("FAIL: dead letters %s, expected %s" % (dead, want))
print("enriched: %d records as expected; dead letters: %s" % (len(got), [k for k, _ in dead]))
PY
echo "PASS"
