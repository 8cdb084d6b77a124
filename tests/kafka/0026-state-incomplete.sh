#!/usr/bin/env bash
# 0026 — a changelog whose start is gone is incomplete state, refused loudly: `up` runs a running
# aggregate over some inputs (its state goes to the changelog), then partition 0 of the changelog
# is flooded with changes of other keys (deletions of absent keys, with the store's signature)
# until the broker drops its oldest records — the embedded broker by its 5 MiB per partition cap,
# Apache Kafka by retention (the changelog gets cleanup.policy compact,delete and retention.bytes
# 1 MiB here). The next `up` must stop before processing anything, with exit status 3 and a
# message naming the changelog topic, the partition and its low watermark; with
# --accept-incomplete-state it restores what is left, with a warning, and runs.
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)
CL=state-incomplete-totals-changelog

cat >"$WORK/inc.yaml" <<'YAML'
metadata: {name: state-incomplete}
topics:
  - {name: events, partitions: 4}
  - {name: totals, partitions: 4}
deployments:
  - name: totals
    input: events
    consumerGroup: state-incomplete
    pipeline: [{aggregate: {fields: {count: count(), sum: sum(v)}, store: totals}}]
    output: totals
YAML
start_broker "$WORK/inc.yaml"
"$PYTHON" "$ST" gen "$WORK/in-1.jsonl" 0 400
kt produce "$ADDR" events "$WORK/in-1.jsonl" >/dev/null
up first 60 "$WORK/inc.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC"
kt read "$ADDR" "$CL" "$WORK/changelog.jsonl" >/dev/null
sig=$("$PYTHON" -c '
import json, sys
for ln in open(sys.argv[1]):
    r = json.loads(ln)
    print(dict(r["headers"])["streamrun.state"]); break' "$WORK/changelog.jsonl")
[ -n "$sig" ] || fail "the changelog's records carry no streamrun.state header"

# 70 deletions of 100 KB keys on partition 0: 7 MB
"$PYTHON" -c '
import json, sys
for i in range(70):
    print(json.dumps({"key": "%06d" % i + "x" * 100000, "tombstone": True, "partition": 0,
                      "headers": [["streamrun.state", sys.argv[1]]]}))' "$sig" >"$WORK/flood.jsonl"
if [ "$BROKER_KIND" = apache ]; then
    kt topic-config "$ADDR" "$CL" cleanup.policy=compact,delete retention.bytes=1048576 >/dev/null
fi
kt produce "$ADDR" "$CL" "$WORK/flood.jsonl" >/dev/null
[ "$BROKER_KIND" != apache ] || kt wait-trimmed "$ADDR" "$CL" 0 --timeout 60
wm=$(kt watermarks "$ADDR" "$CL")
low=$("$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["low"][0])' "$wm")
[ "$low" -gt 0 ] || fail "the broker kept the changelog's start: $wm"
echo "$CL after the flood: $wm"

"$PYTHON" "$ST" gen "$WORK/in-2.jsonl" 400 400
kt produce "$ADDR" events "$WORK/in-2.jsonl" >/dev/null
up refused 60 "$WORK/inc.yaml" --exit-at-end
[ "$RC" = 3 ] || fail "the run over an incomplete changelog exited with status $RC, expected 3"
msg=$(grep "streamrun up: stopped:" "$WORK/refused.log") || fail "no message: $(tail -3 "$WORK/refused.log")"
echo "$msg"
for want in "store 'totals'" "incomplete" "$CL [0] starts at offset $low" "Nothing was processed" \
    "--accept-incomplete-state"; do
    case $msg in *"$want"*) ;; *) fail "the message does not say '$want'" ;; esac
done
grep -q "^totals: 0 in " "$WORK/refused.log" || fail "the refused run processed records"

up accepted 60 "$WORK/inc.yaml" --exit-at-end --accept-incomplete-state
[ "$RC" = 0 ] || fail "the run with --accept-incomplete-state exited with status $RC"
grep -q "WARNING: the state of store 'totals' (partition 0) is incomplete" "$WORK/accepted.log" ||
    fail "no warning about the incomplete state"
[ "$(count_in accepted totals)" = 400 ] || fail "the accepted run did not process the 400 inputs"
echo "PASS"
