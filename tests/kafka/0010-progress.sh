#!/usr/bin/env bash
# 0010 — the progress line: with stderr on a terminal (a pseudo-terminal from script(1)), `up`
# prints "N records in, R/s, lag L" every second, and once it has read all N inputs the line
# says "N records in, 0/s, lag 0"; with a state budget (--state-memory) the line and the summary
# also show the state held (none here: a stateless pipeline); with stderr not a terminal it prints
# no progress line at all, and without a budget or state no state line.
source "$(dirname "$0")/lib.sh" "$@"
N=300
command -v script >/dev/null || fail "no script(1) (Debian package bsdutils)"

start_broker "$PHONE"
kt load "$ADDR" raw-data "$TELEMETRY" "$N"

# on a terminal: wait for the line that shows everything read, then stop it with SIGTERM
timeout 90 script -qefc "'$STREAMRUN' up '$PHONE' --only data-normalization --broker '$ADDR' --state-memory 64MiB" \
    "$WORK/tty.log" >/dev/null 2>&1 &
want="$N records in, 0/s, lag 0, state 0 keys in 0 bytes"
for _ in $(seq 600); do
    tr '\r' '\n' <"$WORK/tty.log" | grep -qF "$want" && break
    sleep 0.1
done
pid=$(pgrep -f "$STREAMRUN up $PHONE --only data-normalization --broker $ADDR --state-memory" | head -1 || true)
[ -n "$pid" ] && kill -TERM "$pid"
wait %% 2>/dev/null || true
tr '\r' '\n' <"$WORK/tty.log" >"$WORK/tty-lines.log"
grep -qF "$want" "$WORK/tty-lines.log" ||
    fail "no progress line '$want' on the terminal in 60 s (last: $(grep -F ' records in' \
        "$WORK/tty-lines.log" | tail -1))"
grep -qE "^data-normalization: $N in \(" "$WORK/tty-lines.log" ||
    fail "no summary after SIGTERM on the terminal"
grep -qF "state: 0 keys in 0 bytes, at most 0 bytes (budget 67108864 bytes)" "$WORK/tty-lines.log" ||
    fail "no state line after the summary"
echo "on a terminal: '$(grep -E 'records in, [0-9]+/s, lag [0-9]+' "$WORK/tty-lines.log" |
    grep -v "^$N records in" | tail -1 | sed 's/ *$//')' ... '$want'"

# not on a terminal: the same run is quiet but for its summary
kt load "$ADDR" raw-data "$TELEMETRY" "$N" --first "$N"
up quiet 60 "$PHONE" --only data-normalization --exit-at-end
[ "$RC" = 0 ] || fail "the run without a terminal exited with status $RC"
! grep -n "records in," "$WORK/quiet.log" || fail "a progress line without a terminal"
! grep -n "^state:" "$WORK/quiet.log" || fail "a state line with no state and no budget"
[ "$(count_in quiet data-normalization)" = "$N" ] ||
    fail "the second run read $(count_in quiet data-normalization) records, expected $N"
echo "without a terminal: no progress line; $(summary quiet data-normalization)"
echo "PASS"
