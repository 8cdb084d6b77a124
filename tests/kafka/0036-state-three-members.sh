#!/usr/bin/env bash
# 0036 — state moves with its partitions among three members: a running aggregate and tumbling
# 1 s windows (as in 0027) on 8 input partitions, one key each. Member a starts over inputs A;
# member b joins while inputs B arrive, then member c while inputs C arrive: each rebalance
# revokes partitions (their state is committed to the changelogs) and the new owners restore the
# state of the partitions they get. Then a stops with SIGTERM (b and c take its partitions and
# their state; inputs D), b is killed with SIGKILL (c takes its partitions after the session
# timeout, from the state b last committed, and processes again what b had not committed;
# inputs E), c stops with SIGTERM and a last member processes inputs F to the end (--exit-at-end),
# restoring every partition. The totals and windows must be those of one uninterrupted run
# (tests/kafka/state.py): at-least-once on both brokers, nothing lost (records processed twice
# after the SIGKILL or a rebalance are counted).
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)
export STATE_PARTITIONS=8
N=800 # inputs per batch

mode=at-least-once
[ "$BROKER_KIND" != apache ] || mode=exactly-once
cat >"$WORK/three.yaml" <<YAML
metadata: {name: state-three-members}
topics:
  - {name: events, partitions: 8}
  - {name: totals, partitions: 8}
  - {name: windows, partitions: 8}
deployments:
  - name: totals
    input: events
    consumerGroup: three-totals
    processing: $mode
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline: [{aggregate: {count: count(), sum: sum(v)}}]
    output: totals
  - name: win
    input: events
    consumerGroup: three-win
    processing: $mode
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - window: {type: tumbling, size: 1s, time: t, unit: ms, aggregate: {count: count(), sum: sum(v)}}
    output: windows
YAML
start_broker "$WORK/three.yaml"

LOADED=0
# load [--end]: the next N inputs (with the end records after them with --end); OUT: the records
# `totals` held before (read_uncommitted)
load() {
    local end=()
    OUT=$(kt wait "$ADDR" totals 0 --isolation read_uncommitted | awk '{print $3}')
    [ "${1:-}" != --end ] || end=(--end $((LOADED + N)))
    "$PYTHON" "$ST" gen "$WORK/load.jsonl" "$LOADED" "$N" "${end[@]}"
    cat "$WORK/load.jsonl" >>"$WORK/inputs.jsonl"
    kt produce "$ADDR" events "$WORK/load.jsonl" >/dev/null
    LOADED=$((LOADED + N))
}
# processed WHAT: waits until `totals` holds a record more for every input of the last load
processed() {
    kt wait "$ADDR" totals $((OUT + N)) --isolation read_uncommitted --timeout 60 >/dev/null ||
        fail "the inputs up to $LOADED were not all processed ($1)"
    echo "$1: $LOADED inputs processed in $SECONDS s"
}
# restores LOG STORE: how many partitions' state of STORE the member logging to LOG restored
restores() {
    grep -c "restored store '$2'" "$WORK/$1.log" || true
}
# until_restored LOG N_AGG N_WIN PID...: waits (30 s at most) until member LOG has restored the
# state of at least N_AGG partitions of the aggregate and N_WIN of the window, while PIDs run
until_restored() {
    local log=$1 na=$2 nw=$3 p
    shift 3
    for _ in $(seq 300); do
        [ "$(restores "$log" aggregate-1)" -ge "$na" ] &&
            [ "$(restores "$log" window-1)" -ge "$nw" ] && return 0
        for p in "$@"; do
            running "$p" || fail "a member exited: $(tail -3 "$WORK"/*.log)"
        done
        sleep 0.1
    done
    fail "member $log restored $(restores "$log" aggregate-1) aggregate and" \
        "$(restores "$log" window-1) window partitions in 30 s (expected $na and $nw)"
}

: >"$WORK/inputs.jsonl"
load
up_bg a 150 "$WORK/three.yaml"
pid_a=$UP_PID
processed "member a"
up_bg b 150 "$WORK/three.yaml"
pid_b=$UP_PID
load # while b joins
until_restored b 1 1 "$pid_a" "$pid_b"
processed "members a and b"
up_bg c 150 "$WORK/three.yaml"
pid_c=$UP_PID
load # while c joins
until_restored c 1 1 "$pid_a" "$pid_b" "$pid_c"
processed "members a, b and c"
rb_agg=$(restores b aggregate-1) rb_win=$(restores b window-1)
rc_agg=$(restores c aggregate-1) rc_win=$(restores c window-1)
kill -TERM "$pid_a"
rc=0
wait "$pid_a" || rc=$?
[ "$rc" = 0 ] || fail "member a exited with $rc after SIGTERM"
load # while b and c take a's partitions
# a's partitions go to b or c, which restore their state
for _ in $(seq 300); do
    [ $(($(restores b aggregate-1) + $(restores c aggregate-1))) -gt $((rb_agg + rc_agg)) ] &&
        [ $(($(restores b window-1) + $(restores c window-1))) -gt $((rb_win + rc_win)) ] && break
    sleep 0.1
done
[ $(($(restores b aggregate-1) + $(restores c aggregate-1))) -gt $((rb_agg + rc_agg)) ] ||
    fail "neither b nor c restored a's aggregate partitions after its SIGTERM"
processed "members b and c after a stopped"
rc_agg=$(restores c aggregate-1) rc_win=$(restores c window-1)
pid=$(pgrep -P "$pid_b") || fail "member b exited before its SIGKILL"
kill -KILL "$pid"
killed=$SECONDS
wait "$pid_b" || true
load # while c waits for b's session to time out
until_restored c $((rc_agg + 1)) $((rc_win + 1)) "$pid_c"
processed "member c after b was killed"
kill -TERM "$pid_c"
rc=0
wait "$pid_c" || rc=$?
[ "$rc" = 0 ] || fail "member c exited with $rc after SIGTERM"
if [ "$mode" = exactly-once ]; then
    # b's transactional id is taken by no one (c holds its own, the last run the one a freed), so
    # b's open transaction holds back the committed end of the outputs and changelogs until the
    # broker aborts it after transaction.timeout.ms (10 s; the test broker looks for timed-out
    # transactions every second): the last run starts after that. `kt read` reads to the high
    # watermarks, waiting for open transactions to end.
    while [ $((SECONDS - killed)) -lt 12 ]; do sleep 0.5; done
fi
load --end
up last 120 "$WORK/three.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the last run exited with status $RC"
[ "$(restores last aggregate-1)" = 8 ] && [ "$(restores last window-1)" = 8 ] ||
    fail "the last run restored $(restores last aggregate-1) aggregate and" \
        "$(restores last window-1) window partitions, not 8 each"
echo "all done in $SECONDS s"
grep -h "restored store" "$WORK"/{a,b,c}.log | sed 's/^/  /' | head -40
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
