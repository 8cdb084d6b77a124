#!/usr/bin/env bash
# 0034 — an input topic grown while `up` runs (CreatePartitions: 2 → 4): the new partitions are
# not in the file, so `up` cannot give them tasks from what it declares; it stops with exit code
# 3, naming the topic, the partition and the declared count, instead of leaving their records
# unprocessed (or writing past its tables). Restarting is refused until the file says 4. Only
# Apache Kafka can grow a topic (the embedded broker cannot), so it runs on that one only:
# brokers: apache
source "$(dirname "$0")/lib.sh" "$@"

cat >"$WORK/grow.yaml" <<'YAML'
metadata: {name: grow}
kafka: {topic.metadata.refresh.interval.ms: 1000}
topics:
  - {name: in, partitions: 2}
  - {name: out}
deployments:
  - name: copy
    input: in
    pipeline:
      - set: {seen: true}
    output: out
YAML
start_broker "$WORK/grow.yaml"
printf '{"key": "a", "value": {"n": 0}, "partition": 0}\n{"key": "b", "value": {"n": 1}, "partition": 1}\n' \
    >"$WORK/first.jsonl"
kt produce "$ADDR" in "$WORK/first.jsonl"
up_bg run 90 "$WORK/grow.yaml"
kt wait "$ADDR" out 2 --timeout 60

"$PYTHON" - "$ADDR" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewPartitions
admin = AdminClient({"bootstrap.servers": sys.argv[1], "log.connection.close": False})
for f in admin.create_partitions([NewPartitions("in", 4)], request_timeout=30).values():
    f.result(30)
print("in grown to 4 partitions")
PY
printf '{"key": "c", "value": {"n": 3}, "partition": 3}\n' >"$WORK/more.jsonl"
kt produce "$ADDR" in "$WORK/more.jsonl"

RC=0
wait "$UP_PID" || RC=$?
[ "$RC" != 124 ] || fail "up went on running with partitions it has no task for"
[ "$RC" = 3 ] || fail "up exited with status $RC, expected 3"
grep -E "stopped: copy: input in has a partition [23], but $WORK/grow.yaml declares 2 partitions" \
    "$WORK/run.log" || fail "up did not say which partition is beyond the file's count"

up again 60 "$WORK/grow.yaml" --exit-at-end
[ "$RC" = 2 ] || fail "the restart exited with status $RC, expected 2 (the counts differ)"
grep -q "4 partitions" "$WORK/again.log" || fail "the restart did not give the topic's count"
echo "PASS"
