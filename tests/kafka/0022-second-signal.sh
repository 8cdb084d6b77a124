#!/usr/bin/env bash
# 0022 — a second SIGTERM stops `up` at once. Once `up` has its partitions, the broker is frozen
# (SIGSTOP): a first SIGTERM then waits for what a graceful stop needs from it (deliveries, the
# last commit, leaving the group); a second one must end the process within seconds, with exit 3
# and a line saying that nothing more was committed.
source "$(dirname "$0")/lib.sh" "$@"

cat >"$WORK/stuck.yaml" <<'YAML'
metadata: {name: second-signal}
topics:
  - {name: in, partitions: 2}
  - {name: out, partitions: 2}
deployments:
  - name: pass
    input: in
    consumerGroup: second-signal
    output: out
YAML
"$PYTHON" -c 'import json
for i in range(100): print(json.dumps({"key": "k%d" % i, "value": {"id": i}}))' >"$WORK/in.jsonl"

start_broker "$WORK/stuck.yaml"
kt produce "$ADDR" in "$WORK/in.jsonl" >/dev/null

# the broker's processes: the embedded broker's, or Apache Kafka's JVM and its `timeout`
case $BROKER_KIND in
embedded) frozen=$(pgrep -P "$BROKER_PID") ;;
*) frozen="$(cat "$WORK/kafka/node1/pid") $(pgrep -P "$(cat "$WORK/kafka/node1/pid")")" ;;
esac
[ -n "$frozen" ] || fail "cannot find the broker's processes"
thaw() { kill -CONT $frozen 2>/dev/null || true; }
trap 'st=$?; thaw; (exit $st); cleanup' EXIT

up_bg a 400 "$WORK/stuck.yaml"
a=$UP_PID
kt wait "$ADDR" out 100 --timeout 60 >/dev/null
pid=$(pgrep -P "$a") || fail "up is not running"
kill -STOP $frozen
echo "$(date +%T) broker frozen"
kill -TERM "$pid"
sleep 3
kill -0 "$pid" 2>/dev/null || fail "up stopped on the first SIGTERM with its broker frozen"
grep -q 'streamrun up: stopping (a second SIGINT or SIGTERM stops at once)' "$WORK/a.log" ||
    fail "the first SIGTERM printed no line saying how to stop at once"
echo "$(date +%T) up still stopping 3 s after the first SIGTERM"
t0=$(date +%s.%N)
kill -TERM "$pid"
rc=0
wait "$a" || rc=$?
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
thaw
echo "up exited with status $rc, $secs s after the second SIGTERM"
[ "$rc" = 3 ] || fail "up exited with status $rc after a second SIGTERM (expected 3)"
awk -v s="$secs" 'BEGIN {exit !(s < 5)}' || fail "up took $secs s to stop after a second SIGTERM"
grep -q 'stopped at once by a second signal: nothing more is committed' "$WORK/a.log" ||
    fail "no line saying that up stopped at once"
broker_alive
echo "PASS"
