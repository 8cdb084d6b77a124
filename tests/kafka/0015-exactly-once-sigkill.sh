#!/usr/bin/env bash
# brokers: apache
# 0015 — SIGKILL at random moments under load, restarting each time (KILLS times, default 3 to
# keep the test under two minutes with sanitizers; KILLS=20 as the issue asks), then one run with --exit-at-end:
# - processing: exactly-once: the output, read with read_committed, is exactly that of a clean
#   `streamrun run` of the same inputs (0 lost, 0 duplicated);
# - at-least-once, over the same inputs into another topic: 0 lost, the duplicates counted and
#   printed.
# Apache Kafka only: the embedded broker does not honour transactions. SEED=N replays the kill
# moments of an earlier run.
source "$(dirname "$0")/lib.sh" "$@"
KILLS=${KILLS:-3}
N=${N:-30000}
SEED=${SEED:-$$}
RANDOM=$SEED
echo "KILLS=$KILLS N=$N SEED=$SEED"

# one file, two deployments of the phone pipeline reading raw-data: eos (exactly-once, into
# table-data) and alo (at-least-once, into table-alo); a 6 s session (the broker's minimum), so a
# restart does not wait long for the killed member to leave the group
{
    sed -n '1,/^deployments:/p' "$PHONE" |
        sed 's/^  - {name: table-data, partitions: 4}$/&\n  - {name: table-alo, partitions: 4}/'
    for dep in eos alo; do
        mode=exactly-once out=table-data
        [ $dep = eos ] || mode=at-least-once out=table-alo
        sed -n '/^  - name: data-normalization$/,$p' "$PHONE" | sed \
            -e "s/^  - name: data-normalization$/  - name: $dep/" \
            -e "s/^    consumerGroup: .*/    consumerGroup: kill-$dep\n    processing: $mode/" \
            -e "s/^    consumerGroup: .*/&\n    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}/" \
            -e "s/^    output: table-data$/    output: $out/"
    done
} >"$WORK/kill.yaml"
export TELEMETRY_FILE=$TELEMETRY
"$STREAMRUN" validate "$WORK/kill.yaml" 2>"$WORK/validate.log" ||
    fail "the test file is not valid: $(cat "$WORK/validate.log")"
[ "$(grep -c '^    processing: ' "$WORK/kill.yaml")" = 2 ] || fail "cannot make the test file"

start_broker "$WORK/kill.yaml"
kt lines "$TELEMETRY" "$WORK/lines.jsonl"
reference "$PHONE" "$WORK/ref" --only data-normalization --in "raw-data=$WORK/lines.jsonl"
kt expect "$WORK/ref/table-data.jsonl" "$TELEMETRY" "$N" "$WORK/expected.jsonl"
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --compression zstd

# kill_loop DEP OUTPUT: KILLS times, `up --only DEP` (committing every 200 ms) killed with SIGKILL
# 0.5 to 3 s after its first assignment — the first time, after its first committed output, so
# that the kills do not all come before any commit; then `up --only DEP --exit-at-end` processes
# what is left. Sets FINAL_IN.
kill_loop() {
    local dep=$1 i tpid pid delay
    for i in $(seq "$KILLS"); do
        timeout 150 "$STREAMRUN" up "$WORK/kill.yaml" --only "$dep" --broker "$ADDR" \
            --commit-interval 200ms 2>"$WORK/$dep-$i.log" &
        tpid=$!
        for _ in $(seq 600); do
            grep -q ': assigned ' "$WORK/$dep-$i.log" && break
            kill -0 "$tpid" 2>/dev/null || fail "$dep run $i exited before it was assigned"
            sleep 0.05
        done
        grep -q ': assigned ' "$WORK/$dep-$i.log" || fail "$dep run $i got no assignment in 30 s"
        [ "$i" != 1 ] || kt wait "$ADDR" "$2" 1 --timeout 60 >/dev/null # committed (or flushed)
        delay=$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.5 + r / 32768 * 2.5}')
        sleep "$delay"
        pid=$(pgrep -P "$tpid") || fail "$dep run $i exited before its SIGKILL"
        kill -KILL "$pid"
        { wait "$tpid" || true; } 2>/dev/null # not the shell's "Killed" line
        echo "$dep: SIGKILL $i of $KILLS, $delay s after the assignment$([ "$i" != 1 ] || echo ' and a commit')"
    done
    up "$dep-final" 170 "$WORK/kill.yaml" --only "$dep" --exit-at-end
    [ "$RC" = 0 ] || fail "the last $dep run exited with status $RC"
    FINAL_IN=$(count_in "$dep-final" "$dep")
    echo "$dep: the last run: $(summary "$dep-final" "$dep")"
}

kill_loop eos table-data
[ "$FINAL_IN" -lt "$N" ] || fail "eos: the killed runs committed nothing"
kt read "$ADDR" table-data "$WORK/eos.jsonl" --timeout 120
kt compare "$WORK/expected.jsonl" "$WORK/eos.jsonl" --exact

kill_loop alo table-alo
kt read "$ADDR" table-alo "$WORK/alo.jsonl" --timeout 120
kt compare "$WORK/expected.jsonl" "$WORK/alo.jsonl" --no-loss
echo "PASS"
