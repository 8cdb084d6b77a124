#!/usr/bin/env bash
# 0055 — a declared migration under `up` and `compat` (README "Changing a running pipeline"): `up`
# runs a tumbling 1 s window (store 'counts'), its state going to the changelog; the file is then
# changed to 2 s windows. Without a migration, `compat` refuses the change (exit 1) and `up` stops
# before processing anything (exit 2). With {store: counts, action: reset}, `compat` accepts it
# (exit 0, a note), and `up` starts the store empty: every changelog record of the old format is
# skipped and counted, none restored, and the run processes the new inputs. A second run with the
# reset kept restores what the first one logged in the new format and skips only the old records.
# `compat EDITED --broker` reads the running side from the cluster: the signature in the latest
# changelog records (v1's: v1 passes, v2 is refused, v2 with the reset accepted), and a changelog
# whose store the file no longer has (a store renamed: refused, accepted with a drop).
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)

cat >"$WORK/v1.yaml" <<'YAML'
metadata: {name: migration-reset}
topics:
  - {name: events, partitions: 4}
  - {name: windows, partitions: 4}
deployments:
  - name: win
    input: events
    consumerGroup: migration-reset
    pipeline:
      - window: {type: tumbling, size: 1s, time: t, unit: ms, store: counts,
                 aggregate: {count: count(), sum: sum(v)}}
    output: windows
YAML
sed 's/size: 1s/size: 2s/' "$WORK/v1.yaml" >"$WORK/v2.yaml"
sed 's/store: counts,/store: counts-v2,/' "$WORK/v1.yaml" >"$WORK/v1-renamed.yaml"
sed 's/    consumerGroup: migration-reset/&\n    migrations: [{store: counts, action: drop}]/' \
    "$WORK/v1-renamed.yaml" >"$WORK/v1-dropped.yaml"
sed 's/    consumerGroup: migration-reset/&\n    migrations: [{store: counts, action: reset}]/' \
    "$WORK/v2.yaml" >"$WORK/v2-reset.yaml"
grep -q 'size: 2s' "$WORK/v2.yaml" && grep -q 'action: reset' "$WORK/v2-reset.yaml" ||
    fail "cannot make the changed files"
check_valid "$WORK/v2-reset.yaml"
start_broker "$WORK/v1.yaml"

"$PYTHON" "$ST" gen "$WORK/in-1.jsonl" 0 800
kt produce "$ADDR" events "$WORK/in-1.jsonl" >/dev/null
up first 60 "$WORK/v1.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
before=$(kt wait "$ADDR" windows 0 | awk '{print $3}')
[ "$before" -gt 0 ] || fail "the first run wrote no window"

# compat against what the cluster recorded: run with an exit status and patterns the report must hold
broker_compat() {
    local file=$1 want=$2
    shift 2
    local rc=0
    "$STREAMRUN" compat "$WORK/$file.yaml" --broker "$ADDR" 2>"$WORK/bc-$file.log" || rc=$?
    [ "$rc" = "$want" ] || fail "compat $file.yaml --broker exited with $rc, expected $want: $(cat "$WORK/bc-$file.log")"
    for pat in "$@"; do
        grep -q -- "$pat" "$WORK/bc-$file.log" || fail "compat $file.yaml --broker does not say '$pat': $(cat "$WORK/bc-$file.log")"
    done
    echo "compat $file.yaml --broker: exit $rc"
}
broker_compat v1 0 "compatible"
broker_compat v2 1 "error\[SR0904\]: .*changelog 'migration-reset-counts-changelog' of store 'counts'.*exit 2" "size=1000"
broker_compat v2-reset 0 "note\[SR0904\]: .*store 'counts' is reset (migration)"
broker_compat v1-renamed 1 "error\[SR0907\]: .*holds the state of store 'counts'" "note\[SR0911\]: .*no changelog 'migration-reset-counts-v2-changelog'"
broker_compat v1-dropped 0 "note\[SR0908\]: .*store 'counts', dropped (migration)"

# without the migration: compat says no, and up refuses
rc=0
"$STREAMRUN" compat "$WORK/v1.yaml" "$WORK/v2.yaml" 2>"$WORK/compat-v2.log" || rc=$?
[ "$rc" = 1 ] || fail "compat v1 v2 exited with $rc, expected 1: $(cat "$WORK/compat-v2.log")"
grep -q "error\[SR0904\]: .*store 'counts'.*exit 2" "$WORK/compat-v2.log" ||
    fail "compat does not say up would refuse: $(cat "$WORK/compat-v2.log")"
"$PYTHON" "$ST" gen "$WORK/in-2.jsonl" 800 800
kt produce "$ADDR" events "$WORK/in-2.jsonl" >/dev/null
up refused 60 "$WORK/v2.yaml" --exit-at-end
[ "$RC" = 2 ] || fail "the run with 2 s windows and no migration exited with status $RC, expected 2"
grep -q "^win: 0 in " "$WORK/refused.log" || fail "the refused run processed records: $(summary refused win)"

# with the migration: compat accepts it and says what up will do; up starts the store empty
rc=0
"$STREAMRUN" compat "$WORK/v1.yaml" "$WORK/v2-reset.yaml" 2>"$WORK/compat-reset.log" || rc=$?
[ "$rc" = 0 ] || fail "compat v1 v2-reset exited with $rc: $(cat "$WORK/compat-reset.log")"
grep -q "note\[SR0904\]: .*store 'counts' is reset (migration)" "$WORK/compat-reset.log" ||
    fail "compat does not say the store is reset: $(cat "$WORK/compat-reset.log")"
up reset 60 "$WORK/v2-reset.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the run with the reset exited with status $RC: $(tail -3 "$WORK/reset.log")"
skipped=$(sed -nE "s/.*store 'counts' of partition [0-9]+ is reset \(migrations\): ([0-9]+) records .*/\1/p" \
    "$WORK/reset.log" | awk '{s += $1} END {print s + 0}')
[ "$skipped" -gt 0 ] || fail "the reset skipped no record: $(grep counts "$WORK/reset.log")"
restored=$(sed -nE "s/.*restored store 'counts' of partition [0-9]+ from [^:]+: ([0-9]+) records.*/\1/p" \
    "$WORK/reset.log" | awk '{s += $1} END {print s + 0}')
[ "$restored" = 0 ] || fail "the reset run restored $restored records of the old state"
n=$(count_in reset win)
[ "$n" = 800 ] || fail "the reset run read $n records, expected the 800 produced since the first run"
echo "reset: $skipped old records skipped, $restored restored, $n read"

# the reset kept: the state logged in the new format is restored, the old records skipped again
"$PYTHON" "$ST" gen "$WORK/in-3.jsonl" 1600 200
kt produce "$ADDR" events "$WORK/in-3.jsonl" >/dev/null
up again 60 "$WORK/v2-reset.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the second run with the reset exited with status $RC: $(tail -3 "$WORK/again.log")"
restored=$(sed -nE "s/.*restored store 'counts' of partition [0-9]+ from [^:]+: ([0-9]+) records.*/\1/p" \
    "$WORK/again.log" | awk '{s += $1} END {print s + 0}')
[ "$restored" -gt 0 ] || fail "the second run restored nothing of the new state"
grep -q "is reset (migrations): $skipped records\|is reset (migrations)" "$WORK/again.log" ||
    fail "the second run skipped no old record"
echo "again: $restored records of the new format restored"
echo "PASS"
