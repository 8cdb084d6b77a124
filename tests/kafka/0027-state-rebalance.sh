#!/usr/bin/env bash
# 0027 — state moves with its partitions: a running aggregate and tumbling 1 s windows (as in
# 0024) run in member a over inputs A; member b joins the group, so that the partitions are
# revoked (a commits its state to the changelogs) and split between the two; each restores the
# state of the partitions it gets from their changelogs, and inputs B follow. Both then stop with
# SIGTERM (committing on revocation) and a last member processes inputs C to the end
# (--exit-at-end), restoring every partition again. The totals and windows must be those of one
# uninterrupted run (tests/kafka/state.py): at-least-once on both brokers, nothing lost (a
# rebalance mid-flight may process a few records twice, counted); exactly-once on Apache Kafka,
# identical. Both members must have restored state after the rebalance.
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)
A=1200 B=1200 C=1200

mode=at-least-once
[ "$BROKER_KIND" != apache ] || mode=exactly-once
cat >"$WORK/move.yaml" <<YAML
metadata: {name: state-rebalance}
topics:
  - {name: events, partitions: 4}
  - {name: totals, partitions: 4}
  - {name: windows, partitions: 4}
deployments:
  - name: totals
    input: events
    consumerGroup: move-totals
    processing: $mode
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline: [{aggregate: {count: count(), sum: sum(v)}}]
    output: totals
  - name: win
    input: events
    consumerGroup: move-win
    processing: $mode
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - window: {type: tumbling, size: 1s, time: t, unit: ms, aggregate: {count: count(), sum: sum(v)}}
    output: windows
YAML
start_broker "$WORK/move.yaml"

# load FIRST N [--end END]
load() {
    "$PYTHON" "$ST" gen "$WORK/load.jsonl" "$@"
    cat "$WORK/load.jsonl" >>"$WORK/inputs.jsonl"
    kt produce "$ADDR" events "$WORK/load.jsonl" >/dev/null
}
# outputs TOPIC: the records TOPIC holds (read_uncommitted: written, committed or not)
outputs() {
    kt wait "$ADDR" "$1" 0 --isolation read_uncommitted | awk '{print $3}'
}

: >"$WORK/inputs.jsonl"
load 0 "$A"
up_bg a 120 "$WORK/move.yaml"
pid_a=$UP_PID
kt wait "$ADDR" totals "$A" --isolation read_uncommitted --timeout 60 >/dev/null
echo "member a processed inputs A"
up_bg b 120 "$WORK/move.yaml"
pid_b=$UP_PID
# until both have restored the state of the partitions they were given, and are assigned
restored() {
    [ "$(grep -c "restored store '$2'" "$WORK/$1.log")" -ge 1 ] &&
        [ "$(grep -c ": assigned 2 partitions" "$WORK/$1.log")" -ge 2 ]
}
for _ in $(seq 300); do
    restored a aggregate-1 && restored a window-1 && restored b aggregate-1 &&
        restored b window-1 && break
    running "$pid_a" || fail "member a exited: $(tail -3 "$WORK/a.log")"
    running "$pid_b" || fail "member b exited: $(tail -3 "$WORK/b.log")"
    sleep 0.1
done
for m in a b; do
    for s in aggregate-1 window-1; do
        restored $m $s || fail "member $m restored no state of store $s in 30 s after the rebalance"
    done
done
grep "restored store" "$WORK/a.log" "$WORK/b.log" | sed 's/^/  /'
ot=$(outputs totals)
load "$A" "$B"
kt wait "$ADDR" totals $((ot + B)) --isolation read_uncommitted --timeout 60 >/dev/null
echo "members a and b processed inputs B"
kill -TERM "$pid_a" "$pid_b"
rc_a=0 rc_b=0
wait "$pid_a" || rc_a=$?
wait "$pid_b" || rc_b=$?
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] || fail "the members exited with $rc_a and $rc_b"
load $((A + B)) "$C" --end $((A + B + C))
up last 120 "$WORK/move.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the last run exited with status $RC"
grep -E "^totals: .*state records restored" "$WORK/last.log" || fail "the last run restored nothing"
"$PYTHON" "$ST" expect "$WORK/exp-totals.jsonl" "$WORK/exp-windows.jsonl" "$WORK/inputs.jsonl"
kt read "$ADDR" totals "$WORK/got-totals.jsonl"
kt read "$ADDR" windows "$WORK/got-windows.jsonl"
"$PYTHON" "$ST" check-alo "$WORK/exp-totals.jsonl" "$WORK/got-totals.jsonl" \
    "$WORK/exp-windows.jsonl" "$WORK/got-windows.jsonl"
if [ "$mode" = exactly-once ]; then
    kt compare "$WORK/exp-totals.jsonl" "$WORK/got-totals.jsonl" --exact
    kt compare "$WORK/exp-windows.jsonl" "$WORK/got-windows.jsonl" --exact
fi
echo "PASS"
