#!/usr/bin/env bash
# 0025 — a changed window size with the same store name is a state incompatibility: `up` runs a
# tumbling 1 s window over some inputs (its state goes to the changelog), then the file is
# changed to 2 s windows, the store name kept. The next `up` must stop before processing anything,
# with exit status 2 and a message that names the store, the changelog topic, what changed, and
# the fixes (a new store name, or deleting the changelog topic); its output topic must not grow.
# Changing only the grace (which does not change what the state means) is accepted.
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)

cat >"$WORK/v1.yaml" <<'YAML'
metadata: {name: state-incompatible}
topics:
  - {name: events, partitions: 4}
  - {name: windows, partitions: 4}
deployments:
  - name: win
    input: events
    consumerGroup: state-incompatible
    pipeline:
      - window: {type: tumbling, size: 1s, time: t, unit: ms, store: counts,
                 aggregate: {count: count(), sum: sum(v)}}
    output: windows
YAML
sed 's/size: 1s/size: 2s/' "$WORK/v1.yaml" >"$WORK/v2.yaml"
sed 's/size: 1s/size: 1s, grace: 500ms/' "$WORK/v1.yaml" >"$WORK/v1-grace.yaml"
grep -q 'size: 2s' "$WORK/v2.yaml" && grep -q 'grace: 500ms' "$WORK/v1-grace.yaml" ||
    fail "cannot make the changed files"
start_broker "$WORK/v1.yaml"

"$PYTHON" "$ST" gen "$WORK/in-1.jsonl" 0 800
kt produce "$ADDR" events "$WORK/in-1.jsonl" >/dev/null
up first 60 "$WORK/v1.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
before=$(kt wait "$ADDR" windows 0 | awk '{print $3}')
[ "$before" -gt 0 ] || fail "the first run wrote no window"

"$PYTHON" "$ST" gen "$WORK/in-2.jsonl" 800 800
kt produce "$ADDR" events "$WORK/in-2.jsonl" >/dev/null
up changed 60 "$WORK/v2.yaml" --exit-at-end
[ "$RC" = 2 ] || fail "the run with 2 s windows exited with status $RC, expected 2"
msg=$(grep "streamrun up: stopped:" "$WORK/changed.log") || fail "no message: $(tail -3 "$WORK/changed.log")"
echo "$msg"
for want in "store 'counts'" "incompatible" "state-incompatible-counts-changelog" "size" \
    "new 'store:' name" "delete the changelog topic" "Nothing was processed"; do
    case $msg in *"$want"*) ;; *) fail "the message does not say '$want'" ;; esac
done
grep -q "^win: 0 in " "$WORK/changed.log" || fail "the refused run processed records: $(summary changed win)"
after=$(kt wait "$ADDR" windows 0 | awk '{print $3}')
[ "$after" = "$before" ] || fail "the refused run wrote windows ($before, then $after records)"

up grace 60 "$WORK/v1-grace.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the run with a grace added exited with status $RC: $(tail -3 "$WORK/grace.log")"
grep -q "restored store 'counts'" "$WORK/grace.log" || fail "the run with a grace restored nothing"
echo "PASS"
