#!/usr/bin/env bash
# brokers: apache
# 0028 — under exactly-once, state goes back with the offsets: a running aggregate and tumbling
# 1 s windows (as in 0024) commit their state for inputs A; the member is stopped for a moment
# (SIGSTOP), inputs B are loaded and its producer is fenced (another producer initialises its
# transactional.id), and it continues: it processes B into a transaction that cannot commit, so
# it gives that transaction up, goes back to the committed offsets and must also go back to the
# committed state (rebuilt from the changelogs), or B would be counted twice. Then inputs C, a
# SIGTERM, and a last run to the end: the outputs, read with read_committed, are exactly those of
# one uninterrupted run (tests/kafka/state.py).
# Apache Kafka only: the embedded broker does not honour transactions.
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)
A=1200 B=1200 C=1200

cat >"$WORK/fence.yaml" <<'YAML'
metadata: {name: state-fenced}
topics:
  - {name: events, partitions: 4}
  - {name: totals, partitions: 4}
  - {name: windows, partitions: 4}
deployments:
  - name: totals
    input: events
    consumerGroup: fence-totals
    processing: exactly-once
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline: [{aggregate: {count: count(), sum: sum(v)}}]
    output: totals
  - name: win
    input: events
    consumerGroup: fence-win
    processing: exactly-once
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - window: {type: tumbling, size: 1s, time: t, unit: ms, aggregate: {count: count(), sum: sum(v)}}
    output: windows
YAML
start_broker "$WORK/fence.yaml"

# load FIRST N [--end END]
load() {
    "$PYTHON" "$ST" gen "$WORK/load.jsonl" "$@"
    cat "$WORK/load.jsonl" >>"$WORK/inputs.jsonl"
    kt produce "$ADDR" events "$WORK/load.jsonl" >/dev/null
}

: >"$WORK/inputs.jsonl"
load 0 "$A"
# commits every 4 s: B is processed (after SIGCONT) well before the commit that meets the fence
up_bg a 150 "$WORK/fence.yaml" --commit-interval 4s
a=$UP_PID
kt wait "$ADDR" totals "$A" --timeout 60 >/dev/null # committed
kt wait "$ADDR" windows 1 --timeout 60 >/dev/null
pid=$(pgrep -P "$a") || fail "member a is not running"
kill -STOP "$pid"
load "$A" "$B"
for id in $(sed -n 's/.*exactly-once, transactional.id //p' "$WORK/a.log"); do
    kt fence "$ADDR" "$id"
done
kill -CONT "$pid"
for _ in $(seq 300); do
    [ "$(grep -c 'rolled back to the last committed transaction' "$WORK/a.log")" -ge 8 ] && break
    running "$a" || fail "member a stopped: $(tail -3 "$WORK/a.log")"
    sleep 0.1
done
grep 'producer was fenced\|rolled back' "$WORK/a.log" | sed 's/^/  /'
[ "$(grep -c 'rolled back to the last committed transaction' "$WORK/a.log")" -ge 8 ] ||
    fail "the 4 partitions of both deployments were not rolled back after the fence"
kt wait "$ADDR" totals $((A + B)) --timeout 60 >/dev/null # B committed
load $((A + B)) "$C" --end $((A + B + C))
kill -TERM "$a"
rc=0
wait "$a" || rc=$?
[ "$rc" = 0 ] || fail "member a exited with status $rc after SIGTERM"
up rest 120 "$WORK/fence.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the last run exited with status $RC"
"$PYTHON" "$ST" expect "$WORK/exp-totals.jsonl" "$WORK/exp-windows.jsonl" "$WORK/inputs.jsonl"
kt read "$ADDR" totals "$WORK/got-totals.jsonl"
kt read "$ADDR" windows "$WORK/got-windows.jsonl"
kt compare "$WORK/exp-totals.jsonl" "$WORK/got-totals.jsonl" --exact
kt compare "$WORK/exp-windows.jsonl" "$WORK/got-windows.jsonl" --exact
echo "PASS"
