#!/usr/bin/env bash
# 0056 — a store renamed with a migration {store: NEW, from: OLD} (README "Changing a running
# pipeline"): `up` runs a running aggregate per key (store 'counts'), its state going to the
# changelog; the file then renames the store to 'tallies'. Without the migration `compat` refuses
# the rename (exit 1); with it `compat` accepts (exit 0, a note). The renamed run restores
# 'tallies' from the changelog of 'counts' (the counts go on from the old state) and copies that
# state into the changelog of 'tallies' at its first commit, followed by a mark of the complete
# copy. A second restart restores 'tallies' from its own changelog alone (no take-over), and the
# counts go on again.
source "$(dirname "$0")/lib.sh" "$@"
ST="$HERE/state.py"
export STATE_T0=$(($(date +%s) * 1000)) # event times from now (see state.py)

cat >"$WORK/v1.yaml" <<'YAML'
metadata: {name: migration-rename}
topics:
  - {name: events, partitions: 4}
  - {name: totals, partitions: 4}
deployments:
  - name: totals
    input: events
    consumerGroup: migration-rename
    pipeline:
      - aggregate: {fields: {count: count(), sum: sum(v)}, store: counts}
    output: totals
YAML
sed 's/store: counts}/store: tallies}/' "$WORK/v1.yaml" >"$WORK/v2-bare.yaml"
sed 's/    consumerGroup: migration-rename/&\n    migrations: [{store: tallies, from: counts}]/' \
    "$WORK/v2-bare.yaml" >"$WORK/v2.yaml"
grep -q 'store: tallies}' "$WORK/v2.yaml" && grep -q 'from: counts' "$WORK/v2.yaml" ||
    fail "cannot make the renamed files"
check_valid "$WORK/v2.yaml"
# the embedded broker makes the changelog topics of its file's stores at its start (it cannot
# create topics over the network): a file with both stores
sed 's/      - aggregate: .*store: counts}/&\n      - aggregate: {fields: {n: count()}, store: tallies}/' \
    "$WORK/v1.yaml" >"$WORK/broker.yaml"
grep -q 'store: tallies}' "$WORK/broker.yaml" || fail "cannot make the broker's file"
start_broker "$WORK/broker.yaml"

# check_totals LOG N: every key's latest totals are those of the first N input records (the
# state carried across the runs), read from the totals topic
check_totals() {
    kt read "$ADDR" totals "$WORK/totals-$1.jsonl" >/dev/null
    "$PYTHON" - "$WORK/totals-$1.jsonl" "$2" <<'PY' || fail "after $1: the totals did not go on from the state before"
import json, sys
n = int(sys.argv[2])
last = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if v["count"] > last.get(r["key"], {"count": -1})["count"]:
        last[r["key"]] = v
want = {"k%d" % k: {"count": len(range(k, n, 8)), "sum": sum(i % 7 for i in range(k, n, 8))}
        for k in range(8)}
got = {k: {"count": v["count"], "sum": v["sum"]} for k, v in last.items()}
if got != want:
    print("latest totals per key: got %s, want %s" % (got, want))
    sys.exit(1)
print("totals of %d records: %s" % (n, sorted((k, v["count"]) for k, v in got.items())))
PY
}

# restored LOG STORE: the records restored into STORE, over its partitions
restored() {
    sed -nE "s/.*restored store '$2' of partition [0-9]+ from ([^:]+): ([0-9]+) records.*/\1 \2/p" \
        "$WORK/$1.log"
}

"$PYTHON" "$ST" gen "$WORK/in-1.jsonl" 0 800
kt produce "$ADDR" events "$WORK/in-1.jsonl" >/dev/null
up first 60 "$WORK/v1.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the first run exited with status $RC: $(tail -3 "$WORK/first.log")"
check_totals first 800

# compat: the rename alone is refused, with the migration accepted
rc=0
"$STREAMRUN" compat "$WORK/v1.yaml" "$WORK/v2-bare.yaml" 2>"$WORK/compat-bare.log" || rc=$?
[ "$rc" = 1 ] || fail "compat v1 v2-bare exited with $rc, expected 1: $(cat "$WORK/compat-bare.log")"
rc=0
"$STREAMRUN" compat "$WORK/v1.yaml" "$WORK/v2.yaml" 2>"$WORK/compat.log" || rc=$?
[ "$rc" = 0 ] || fail "compat v1 v2 exited with $rc: $(cat "$WORK/compat.log")"
grep -q "note\[SR0998\]: .*store 'tallies' (was 'counts'; migration)" "$WORK/compat.log" ||
    fail "compat does not say the store is renamed: $(cat "$WORK/compat.log")"

# compat --broker: the changelog of counts on the cluster is taken over (the same format), refused
# when the step's state changed, and orphaned without the migration
sed 's/sum: sum(v)/sum: max(v)/' "$WORK/v2.yaml" >"$WORK/v2-max.yaml"
grep -q 'sum: max(v)' "$WORK/v2-max.yaml" || fail "cannot make the changed file"
broker_compat() {
    local file=$1 want=$2 pat=$3 rc=0
    "$STREAMRUN" compat "$WORK/$file.yaml" --broker "$ADDR" 2>"$WORK/bc-$file.log" || rc=$?
    [ "$rc" = "$want" ] || fail "compat $file.yaml --broker exited with $rc, expected $want: $(cat "$WORK/bc-$file.log")"
    grep -q -- "$pat" "$WORK/bc-$file.log" || fail "compat $file.yaml --broker does not say '$pat': $(cat "$WORK/bc-$file.log")"
    echo "compat $file.yaml --broker: exit $rc"
}
broker_compat v2 0 "note\[SR0998\]: .*store 'tallies' (was 'counts'; migration) takes over the state in changelog 'migration-rename-counts-changelog'"
broker_compat v2-max 1 "error\[SR0996\]: .*store 'tallies' cannot take over the state of 'counts'"
broker_compat v2-bare 1 "error\[SR0907\]: .*holds the state of store 'counts'"

# the renamed run: tallies takes over the state of counts, and the counts go on
"$PYTHON" "$ST" gen "$WORK/in-2.jsonl" 800 400
kt produce "$ADDR" events "$WORK/in-2.jsonl" >/dev/null
up renamed 60 "$WORK/v2.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the renamed run exited with status $RC: $(tail -3 "$WORK/renamed.log")"
taken=$(grep -c "store 'tallies' of partition [0-9]* takes over the state of migration-rename-counts-changelog" \
    "$WORK/renamed.log" || true)
[ "$taken" = 4 ] || fail "tallies took over the state of counts in $taken partitions, expected 4: $(grep tallies "$WORK/renamed.log")"
n=$(count_in renamed totals)
[ "$n" = 400 ] || fail "the renamed run read $n records, expected the 400 produced since the first run"
check_totals renamed 1200

# the new changelog holds the copy and its mark, one per partition
kt read "$ADDR" migration-rename-tallies-changelog "$WORK/tallies-changelog.jsonl" >/dev/null
marks=$(grep -c '"streamrun.state.copied-from", "migration-rename-counts-changelog"' \
    "$WORK/tallies-changelog.jsonl" || true)
[ "$marks" = 4 ] || fail "the changelog of tallies holds $marks marks of a complete copy, expected 4"

# a second restart: tallies comes from its own changelog alone, and the counts go on again
"$PYTHON" "$ST" gen "$WORK/in-3.jsonl" 1200 400
kt produce "$ADDR" events "$WORK/in-3.jsonl" >/dev/null
up again 60 "$WORK/v2.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "the second renamed run exited with status $RC: $(tail -3 "$WORK/again.log")"
! grep -q "takes over the state" "$WORK/again.log" ||
    fail "the second run took the old state over again: $(grep 'takes over' "$WORK/again.log")"
from=$(restored again tallies | awk '{print $1}' | sort -u)
[ "$from" = migration-rename-tallies-changelog ] ||
    fail "the second run restored tallies from '$from', expected its own changelog alone"
total=$(restored again tallies | awk '{s += $2} END {print s + 0}')
[ "$total" -ge 8 ] || fail "the second run restored $total records into tallies"
check_totals again 1600
echo "PASS"
