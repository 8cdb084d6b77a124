#!/usr/bin/env bash
# 0047 — covid-per-capita's tables and join state survive a SIGKILL mid-stream. The line list is
# replayed in two parts (tests/kafka/covid.sh). Run 1 of the stateful deployments (case-counts,
# the per-state count; per-capita, the join of counts and populations) processes part A and the
# population table to the end and exits (committing its state). Run 2 restores that state, and
# is killed with SIGKILL while part B is being replayed, having processed some of it without
# committing (--commit-interval 1h: no commit can come between the kill and the records it
# processed, so at-least-once repeats them rather than counting them twice). Run 3 restores the
# state again (both stores: the count and the join's latest values), processes part B from the
# committed offsets to the end, and the last value per state must be the reference's.
source "$(dirname "$0")/lib.sh" "$@"
source "$HERE/covid.sh"
STATEFUL=(--only case-counts --only per-capita)

start_broker "$WORK/cpc.yaml"
replay replay-a "$WORK/cases-a.csv" 0 --populations
up run1 60 "$WORK/cpc.yaml" "${STATEFUL[@]}" --exit-at-end
[ "$RC" = 0 ] || fail "run 1 exited with status $RC"
counted 3200
echo "run 1 counted part A (3,200 cases) and exited"

# the stores: the aggregate's and the join's, each restored by runs 2 and 3
restored_both() {
    grep -q "restored store 'aggregate-1'" "$WORK/$1.log" &&
        [ "$(grep "restored store" "$WORK/$1.log" | grep -vc "'aggregate-1'")" -ge 1 ]
}
up_bg run2 120 "$WORK/cpc.yaml" "${STATEFUL[@]}" --commit-interval 1h
pid=$UP_PID
# both deployments' groups formed and their state restored before part B comes (on the embedded
# broker a new group waits 3 s for members, each group on its own)
for _ in $(seq 300); do
    restored_both run2 && break
    running "$pid" || fail "run 2 exited: $(tail -3 "$WORK/run2.log")"
    sleep 0.1
done
restored_both run2 || fail "run 2 did not restore both stores in 30 s: $(grep restored "$WORK/run2.log")"
CASES_FILE=$WORK/cases-b.csv CASES_RATE=1000 timeout -k 10 120 "$STREAMRUN" up "$WORK/cpc.yaml" \
    --only cases-replay --exit-at-end --broker "$ADDR" 2>"$WORK/replay-b.log" &
replay_pid=$!
# both stages mid-way through part B: 500 of its cases counted and joined
counted 3700
kt wait "$ADDR" cases-per-capita 3700 --isolation read_uncommitted --timeout 60 >/dev/null
running "$pid" || fail "run 2 exited: $(tail -3 "$WORK/run2.log")"
kill -KILL "$(pgrep -P "$pid")"
{ wait "$pid" || true; } 2>/dev/null
echo "run 2 restored both stores, counted and joined 500 or more cases of part B, and was killed"
wait "$replay_pid" || fail "the replay of part B failed: $(tail -3 "$WORK/replay-b.log")"
up run3 60 "$WORK/cpc.yaml" "${STATEFUL[@]}" --exit-at-end
[ "$RC" = 0 ] || fail "run 3 exited with status $RC"
restored_both run3 || fail "run 3 did not restore both stores: $(grep restored "$WORK/run3.log")"
grep "restored store" "$WORK/run3.log" | sed 's/^/  /'
settled
echo "PASS"
