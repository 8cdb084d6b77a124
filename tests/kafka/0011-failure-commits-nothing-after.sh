#!/usr/bin/env bash
# 0011 — a failure stops the run without committing past it: record 5 of 10 (one partition) has
# an output larger than the producer's message.max.bytes, so it cannot be produced and `up`
# stops with exit code 3 and the reason. The records from 5 on must not be committed — neither by
# the periodic commit nor by the revocation when the consumer closes — so the next run, without
# the limit, reads them again, and `out` then holds the output of every input (at-least-once).
# With 2 workers and with 1.
source "$(dirname "$0")/lib.sh" "$@"

cat >"$WORK/fail.yaml" <<'EOF'
metadata: {name: failure}
topics:
  - {name: in, partitions: 1}
  - {name: out, partitions: 1}
kafka: {message.max.bytes: "${MAX_BYTES:-1000000}"}
deployments:
  - name: pass
    input: in
    consumerGroup: "failure-${GROUP:-a}"
    pipeline:
      - set: {seen: true}
    output: out
EOF
start_broker "$WORK/fail.yaml"

pad=$(printf 'x%.0s' $(seq 1500))
for i in $(seq 0 9); do
    if [ "$i" = 5 ]; then p=$pad; else p=small; fi
    printf '{"key": "k%d", "value": {"id": %d, "pad": "%s"}, "partition": 0}\n' "$i" "$i" "$p"
done >"$WORK/in.jsonl"
kt produce "$ADDR" in "$WORK/in.jsonl"

for workers in 2 1; do
    export GROUP=w$workers
    MAX_BYTES=1000 up fail-$workers 60 "$WORK/fail.yaml" --exit-at-end --workers "$workers"
    [ "$RC" = 3 ] || fail "workers $workers: the run with the limit exited with $RC, expected 3"
    grep -q "too large" "$WORK/fail-$workers.log" ||
        fail "workers $workers: no reason given for the failure"
    MAX_BYTES=1000000 up again-$workers 60 "$WORK/fail.yaml" --exit-at-end --workers "$workers"
    [ "$RC" = 0 ] || fail "workers $workers: the run without the limit exited with $RC"
    again=$(count_in again-$workers pass)
    [ "$again" -ge 5 ] ||
        fail "workers $workers: the next run read $again records: the failed run committed" \
            "past record 5 (at most 5 may have been committed)"
    echo "workers $workers: exit 3 ($(grep -o 'cannot produce[^;]*' "$WORK/fail-$workers.log" |
        head -1)); the next run read $again of 10 again"
done

kt read "$ADDR" out "$WORK/out.jsonl"
ids=$("$PYTHON" -c '
import json, sys
ids = sorted({json.loads(l)["value"]["id"] for l in open(sys.argv[1])})
print(" ".join(map(str, ids)))' "$WORK/out.jsonl")
[ "$ids" = "0 1 2 3 4 5 6 7 8 9" ] || fail "out holds the outputs of ids '$ids', expected 0..9"
echo "out holds the output of every input"
echo "PASS"
