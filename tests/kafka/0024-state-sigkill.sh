#!/usr/bin/env bash
# 0024 — state survives SIGKILL: a running aggregate (count and sum per key) and tumbling 1 s
# windows (count and sum per key) run under `up`, each killed with SIGKILL at two points and
# restarted, then run to the end of their input with --exit-at-end. Each kill comes after a
# commit of the run's state (its changelog grew) and right after more input was processed but not
# yet committed, so a restart must restore the committed state from the changelog and process the
# rest again. The inputs and the outputs an uninterrupted run makes come from tests/kafka/state.py
# (written independently of the C code).
# - at-least-once (both brokers): nothing lost — every key's totals reach the expected ones and
#   every expected window is written with at least its count; records written more than once are
#   counted and printed;
# - exactly-once (Apache Kafka only: the embedded broker does not honour transactions): the
#   outputs, read with read_committed, are exactly those of the uninterrupted run.
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)
A=1200 B=400 # per stage: A records committed before the kill, B processed after the last commit

modes=(alo)
[ "$BROKER_KIND" != apache ] || modes+=(eos)
{
    echo "metadata: {name: state-sigkill}"
    echo "topics:"
    for m in alo eos; do
        echo "  - {name: events-$m, partitions: 4}"
        echo "  - {name: totals-$m, partitions: 4}"
        echo "  - {name: windows-$m, partitions: 4}"
    done
    echo "deployments:"
    for m in alo eos; do
        mode=at-least-once
        [ $m = alo ] || mode=exactly-once
        for d in totals win; do
            echo "  - name: $d-$m"
            echo "    input: events-$m"
            echo "    consumerGroup: state-$d-$m"
            echo "    processing: $mode"
            echo "    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}"
            if [ $d = totals ]; then
                echo "    pipeline: [{aggregate: {count: count(), sum: sum(v)}}]"
                echo "    output: totals-$m"
            else
                echo "    pipeline:"
                echo "      - window: {type: tumbling, size: 1s, time: t, unit: ms,"
                echo "                 aggregate: {count: count(), sum: sum(v)}}"
                echo "    output: windows-$m"
            fi
        done
    done
} >"$WORK/state.yaml"
"$STREAMRUN" validate "$WORK/state.yaml" 2>"$WORK/validate.log" ||
    fail "the test file is not valid: $(cat "$WORK/validate.log")"
start_broker "$WORK/state.yaml"

# holds TOPIC [ISOLATION]: the records TOPIC holds (high watermarks, or last stable offsets); 0
# while it does not exist (on Apache Kafka `up` creates the changelog topics)
holds() {
    if kt topics "$ADDR" | grep -qx "$1"; then
        kt wait "$ADDR" "$1" 0 --isolation "${2:-read_committed}" | awk '{print $3}'
    else
        echo 0
    fi
}

# grows TOPIC N: waits until TOPIC exists and holds at least N records (read_committed)
grows() {
    for _ in $(seq 300); do
        kt topics "$ADDR" | grep -qx "$1" && break
        sleep 0.2
    done
    kt wait "$ADDR" "$1" "$2" --timeout 60 >/dev/null
}

# load MODE FIRST N [--end END]: inputs FIRST .. FIRST+N-1 into events-MODE
load() {
    local m=$1
    shift
    "$PYTHON" "$ST" gen "$WORK/load.jsonl" "$@"
    cat "$WORK/load.jsonl" >>"$WORK/inputs-$m.jsonl"
    kt produce "$ADDR" "events-$m" "$WORK/load.jsonl" >/dev/null
}

# killed_run MODE I FIRST: runs MODE's two deployments; once inputs FIRST .. FIRST+A-1 (loaded
# before) are committed (both changelogs grew under read_committed), loads B more, waits until
# their outputs are written (read_uncommitted) and kills the run with SIGKILL.
killed_run() {
    local m=$1 i=$2 first=$3 tpid pid ct cw ot
    ct=$(holds "state-totals-$m-aggregate-1-changelog")
    cw=$(holds "state-win-$m-window-1-changelog")
    timeout -k 10 120 "$STREAMRUN" up "$WORK/state.yaml" --only "totals-$m" --only "win-$m" \
        --broker "$ADDR" --commit-interval 500ms 2>"$WORK/$m-$i.log" &
    tpid=$!
    grows "state-totals-$m-aggregate-1-changelog" $((ct + 1))
    grows "state-win-$m-window-1-changelog" $((cw + 1))
    ot=$(holds "totals-$m" read_uncommitted)
    load "$m" $((first + A)) "$B"
    kt wait "$ADDR" "totals-$m" $((ot + B)) --isolation read_uncommitted --timeout 60 >/dev/null
    pid=$(pgrep -P "$tpid") || fail "$m run $i exited before its SIGKILL"
    kill -KILL "$pid"
    { wait "$tpid" || true; } 2>/dev/null
    grep -q "restored store" "$WORK/$m-$i.log" || [ "$i" = 1 ] ||
        fail "$m run $i restored no state: $(tail -3 "$WORK/$m-$i.log")"
    echo "$m: SIGKILL $i after a commit and $B more inputs processed"
}

for m in "${modes[@]}"; do
    : >"$WORK/inputs-$m.jsonl"
    first=0
    for i in 1 2; do
        load "$m" "$first" "$A"
        killed_run "$m" "$i" "$first"
        first=$((first + A + B))
    done
    load "$m" "$first" "$A" --end $((first + A))
    up "$m-final" 120 "$WORK/state.yaml" --only "totals-$m" --only "win-$m" --exit-at-end
    [ "$RC" = 0 ] || fail "the last $m run exited with status $RC"
    grep -E "^totals-$m: .*state records restored" "$WORK/$m-final.log" ||
        fail "the last $m run's summary counts no restored state"
    kt read "$ADDR" "totals-$m" "$WORK/got-totals-$m.jsonl"
    kt read "$ADDR" "windows-$m" "$WORK/got-windows-$m.jsonl"
done
[ "$BROKER_KIND" != apache ] || cmp "$WORK/inputs-alo.jsonl" "$WORK/inputs-eos.jsonl"
"$PYTHON" "$ST" expect "$WORK/exp-totals.jsonl" "$WORK/exp-windows.jsonl" "$WORK/inputs-alo.jsonl"
"$PYTHON" "$ST" check-alo "$WORK/exp-totals.jsonl" "$WORK/got-totals-alo.jsonl" \
    "$WORK/exp-windows.jsonl" "$WORK/got-windows-alo.jsonl"
if [ "$BROKER_KIND" = apache ]; then
    kt compare "$WORK/exp-totals.jsonl" "$WORK/got-totals-eos.jsonl" --exact
    kt compare "$WORK/exp-windows.jsonl" "$WORK/got-windows-eos.jsonl" --exact
fi
echo "PASS"
