#!/usr/bin/env bash
# 0035 — compaction keeps a restore bounded: a running aggregate over 8 keys, each updated
# hundreds of times, logs hundreds of changes to its changelog (one per changed key per commit,
# every 50 ms); the changelog topic, created beforehand as a user would (the input's partition
# count, cleanup.policy=compact, segments rolled every 100 ms, min.cleanable.dirty.ratio 0.01; the
# broker's cleaner checks every 100 ms, see apache/kafka.sh), is compacted by Apache Kafka down
# to about one record per key. A restart restores from it: its restore log must count a small
# fraction of the records ever logged (at most a quarter) and at least one per key, and the
# running totals must continue from the restored ones: every output record, across the two runs,
# is the one an uninterrupted run writes (tests/kafka/state.py, written independently of the C
# code).
# brokers: apache
# (the embedded broker never compacts: a changelog there keeps every change, up to its 5 MiB
# per partition cap)
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)
CL=state-compaction-totals-changelog
N1=1600 N2=400 # inputs of the first run (paced), and of the second

cat >"$WORK/compact.yaml" <<'YAML'
metadata: {name: state-compaction}
topics:
  - {name: events, partitions: 4}
  - {name: totals, partitions: 4}
deployments:
  - name: totals
    input: events
    consumerGroup: state-compaction
    pipeline: [{aggregate: {fields: {count: count(), sum: sum(v)}, store: totals}}]
    output: totals
YAML
start_broker "$WORK/compact.yaml"
# delete.retention.ms: how long a compacted tombstone stays (the aggregate logs none)
kt create-topic "$ADDR" "$CL" 4 --config cleanup.policy=compact --config segment.ms=100 \
    --config min.cleanable.dirty.ratio=0.01 --config delete.retention.ms=100 >/dev/null

# the first run: inputs 0 .. N1-1, 8 at a time every 20 ms (one per key), while `up` commits every
# 50 ms: each commit logs the keys changed since the last one
"$PYTHON" "$ST" gen "$WORK/in-1.jsonl" 0 "$N1"
up_bg first 120 "$WORK/compact.yaml" --commit-interval 50ms
"$PYTHON" - "$ADDR" "$WORK/in-1.jsonl" <<'PY' || fail "cannot produce the paced inputs"
import json, sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "linger.ms": 0})
recs = [json.loads(ln) for ln in open(sys.argv[2])]
for i, r in enumerate(recs):
    p.produce("events", key=r["key"], value=json.dumps(r["value"]), partition=r["partition"])
    if i % 8 == 7:
        p.flush(30)
        time.sleep(0.02)
if p.flush(30):
    sys.exit("inputs not delivered")
PY
kt wait "$ADDR" totals "$N1" --timeout 60 >/dev/null
kill -TERM "$UP_PID"
RC=0
wait "$UP_PID" || RC=$?
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
logged=$(kt watermarks "$ADDR" "$CL" | "$PYTHON" -c '
import json, sys
w = json.load(sys.stdin)
assert not any(w["low"]), "the changelog lost its start: %s" % w
print(sum(w["high"]))')
[ "$logged" -ge 200 ] || fail "only $logged changes logged: the test needs many updates per key"
echo "first run: $N1 inputs, $logged changes logged to $CL"

# compaction: wait (at most 60 s) until the changelog holds at most a quarter of what was logged
held=$logged
deadline=$((SECONDS + 60))
while :; do
    kt read "$ADDR" "$CL" "$WORK/changelog.jsonl" >/dev/null
    held=$(wc -l <"$WORK/changelog.jsonl")
    [ "$held" -gt $((logged / 4)) ] || break
    [ "$SECONDS" -lt "$deadline" ] ||
        fail "the changelog was not compacted in 60 s: it holds $held of the $logged records logged"
    sleep 0.5
done
echo "compacted: $CL holds $held of the $logged records logged"

# the second run restores from the compacted changelog, then processes N2 more inputs
"$PYTHON" "$ST" gen "$WORK/in-2.jsonl" "$N1" "$N2"
kt produce "$ADDR" events "$WORK/in-2.jsonl" >/dev/null
up second 60 "$WORK/compact.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the second run exited with status $RC"
grep "restored store" "$WORK/second.log" | sed 's/^streamrun: /  /'
restored=$(grep -E '^totals: .*state records restored' "$WORK/second.log" |
    sed -E 's/.*, ([0-9]+) state records restored.*/\1/')
[ -n "$restored" ] || fail "the second run's summary counts no restored state"
[ "$restored" -ge 8 ] || fail "$restored records restored, fewer than the 8 keys"
[ "$restored" -le $((logged / 4)) ] ||
    fail "$restored records restored of the $logged logged: compaction did not bound the restore"
echo "second run: restored $restored records of the $logged ever logged"

# the totals: every output record of both runs as an uninterrupted run writes it
"$PYTHON" "$ST" expect "$WORK/exp-totals.jsonl" "$WORK/exp-windows.jsonl" "$WORK/in-1.jsonl" \
    "$WORK/in-2.jsonl"
kt read "$ADDR" totals "$WORK/got-totals.jsonl" >/dev/null
kt compare "$WORK/exp-totals.jsonl" "$WORK/got-totals.jsonl" --exact
echo "PASS"
