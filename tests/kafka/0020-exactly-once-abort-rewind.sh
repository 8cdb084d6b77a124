#!/usr/bin/env bash
# brokers: apache
# 0020 — a transaction that fails is aborted and its records are processed again from the last
# committed offsets, never seen by read_committed readers; five failures in a row stop the run.
# The output topic takes records of at most 3,000 bytes (max.message.bytes); one input in the
# middle of 100 makes an output of about 8,000 bytes (random text), which the broker refuses:
# every transaction that holds it fails. `up --exit-at-end` must abort transactions, rewinding
# each time (read_uncommitted shows the records before the big one written again and again),
# stop once five fail in a row (exit 3), and leave read_committed readers each record before the
# big one at most once (a transaction that ended before it may commit) and nothing from it on.
# Apache Kafka only: the embedded broker does not honour transactions.
source "$(dirname "$0")/lib.sh" "$@"

cat >"$WORK/abort.yaml" <<'YAML'
metadata: {name: aborts}
topics:
  - {name: in}
  - {name: out, config: {max.message.bytes: "3000"}}
deployments:
  - name: copy
    input: in
    output: out
    processing: exactly-once
    kafka: {batch.size: 2000}
YAML
"$STREAMRUN" validate "$WORK/abort.yaml" 2>"$WORK/validate.log" ||
    fail "the test file is not valid: $(cat "$WORK/validate.log")"

big=$(head -c 6000 /dev/urandom | base64 -w0)
{
    for i in $(seq 50); do printf '{"key":"k%d","value":{"n":%d}}\n' "$i" "$i"; done
    printf '{"key":"big","value":{"blob":"%s"}}\n' "$big"
    for i in $(seq 51 100); do printf '{"key":"k%d","value":{"n":%d}}\n' "$i" "$i"; done
} >"$WORK/in.jsonl"

start_broker "$WORK/abort.yaml"
kt produce "$ADDR" in "$WORK/in.jsonl"
up copy 150 "$WORK/abort.yaml" --exit-at-end
[ "$RC" = 3 ] || fail "up exited with status $RC, not 3"
aborts=$(grep -c 'transaction aborted' "$WORK/copy.log" || true)
echo "transactions aborted: $aborts"
[ "$aborts" -ge 5 ] || fail "expected 5 aborted transactions or more, got $aborts"
grep -q 'processing again from the last committed offsets' "$WORK/copy.log" ||
    fail "the aborted transactions were not redone"
grep -q 'stopped: copy: 5 transactions in a row failed' "$WORK/copy.log" ||
    fail "up did not stop after 5 failed transactions"

kt read "$ADDR" out "$WORK/committed.jsonl" --timeout 60
"$PYTHON" - "$WORK/committed.jsonl" <<'PY' || fail "read_committed readers see records of aborted transactions"
import json, sys
keys = [json.loads(line)["key"] for line in open(sys.argv[1])]
bad = [k for k in keys if k == "big" or int(k[1:]) > 50]
dups = len(keys) - len(set(keys))
print("read_committed: %d records, %d duplicated, %d from the big one on" % (len(keys), dups, len(bad)))
sys.exit(1 if dups or bad else 0)
PY
kt read "$ADDR" out "$WORK/all.jsonl" --timeout 60 --isolation read_uncommitted
written=$(grep -c '"key": "k50"' "$WORK/all.jsonl" || true)
echo "read_uncommitted: the output of the input before the big one, $written times"
[ "$written" -ge 2 ] || fail "the records were not processed again after an abort"
echo "PASS"
