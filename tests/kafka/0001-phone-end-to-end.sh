#!/usr/bin/env bash
# 0001 — phone end to end: `streamrun up pipelines/phone-normalization.yaml --exit-at-end` on a
# `streamrun broker` writes to table-data the same multiset of (key, value) as `streamrun run
# --envelope` over the same sample data, with the same per-deployment counts on its summary;
# `streamrun tap` prints the same records, and refuses (without creating it) a topic that does
# not exist. It runs with --workers 3: a deployment's partitions are processed on three threads,
# whatever the number of cores (the default is one worker per core; 0003 runs with one).
# On Apache Kafka no topic exists before `up`, which creates them with the file's partition counts.
source "$(dirname "$0")/lib.sh" "$@"

start_broker "$PHONE" --no-topics
reference "$PHONE" "$WORK/ref"
up up 60 "$PHONE" --exit-at-end --workers 3
[ "$RC" = 0 ] || fail "streamrun up exited with status $RC"
echo "streamrun up: $SECS s"

# each deployment's "N in (N delivered, N filtered, N dead-lettered), N out" is the in-process run's
tin=0 tdel=0 tfil=0 tdead=0 tout=0
for dep in raw-replay data-normalization; do
    want=$(grep -E "^$dep: " "$WORK/reference.log") || fail "no $dep line from streamrun run"
    got=$(summary up "$dep")
    case $got in
    "$want, "*" s"*) echo "summary ok: $got" ;;
    *) fail "summary of $dep: expected '$want, ... s', got '${got:-nothing}'" ;;
    esac
    read -r n_in n_del n_fil n_dead n_out < <(echo "$want" | sed -E \
        's/^[^:]+: ([0-9]+) in \(([0-9]+) delivered, ([0-9]+) filtered, ([0-9]+) dead-lettered\), ([0-9]+) out$/\1 \2 \3 \4 \5/')
    [ $((n_del + n_fil + n_dead)) = "$n_in" ] || fail "$dep: the counts do not add up to $n_in in"
    tin=$((tin + n_in)) tdel=$((tdel + n_del)) tfil=$((tfil + n_fil)) tdead=$((tdead + n_dead))
    tout=$((tout + n_out))
done
total=$(grep -E "^total: " "$WORK/up.log" || true)
want="total: $tin in ($tdel delivered, $tfil filtered, $tdead dead-lettered), $tout out"
[[ $total == "$want, "* && $total =~ ,\ [0-9]+\.[0-9]{3}\ s$ ]] ||
    fail "expected '$want, N.NNN s', got '$total'"
echo "summary ok: $total"

for t in raw-data:4 table-data:4 errors:1; do
    n=$(kt watermarks "$ADDR" "${t%:*}" | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)["high"]))')
    [ "$n" = "${t#*:}" ] || fail "topic ${t%:*} has $n partitions, the file declares ${t#*:}"
done
echo "topics ok: raw-data 4, table-data 4 and errors 1 partitions"
kt read "$ADDR" table-data "$WORK/table-data.jsonl"
kt compare "$WORK/ref/table-data.jsonl" "$WORK/table-data.jsonl" --exact
kt read "$ADDR" raw-data "$WORK/raw-data.jsonl"
kt compare "$WORK/ref/raw-data.jsonl" "$WORK/raw-data.jsonl" --exact
kt read "$ADDR" errors "$WORK/errors.jsonl"
[ ! -s "$WORK/errors.jsonl" ] || fail "records were dead-lettered: $(head -c 300 "$WORK/errors.jsonl")"

rows=$(wc -l <"$WORK/ref/table-data.jsonl")
rc=0
timeout 30 "$STREAMRUN" tap table-data --broker "$ADDR" --from-beginning --count "$rows" \
    >"$WORK/tap.jsonl" 2>"$WORK/tap.log" || rc=$?
[ "$rc" = 0 ] || fail "streamrun tap table-data --count $rows exited with status $rc"
kt compare "$WORK/ref/table-data.jsonl" "$WORK/tap.jsonl" --exact
rc=0
timeout 30 "$STREAMRUN" tap no-such-topic --broker "$ADDR" --count 1 2>"$WORK/tap-missing.log" || rc=$?
[ "$rc" = 2 ] || fail "streamrun tap no-such-topic exited with status $rc, expected 2"
grep -q "cannot read topic 'no-such-topic'" "$WORK/tap-missing.log" ||
    fail "streamrun tap no-such-topic said: $(cat "$WORK/tap-missing.log")"
! kt topics "$ADDR" | grep -qx no-such-topic || fail "streamrun tap created topic no-such-topic"
echo "tap ok: $rows records of table-data; no-such-topic refused"
echo "PASS"
