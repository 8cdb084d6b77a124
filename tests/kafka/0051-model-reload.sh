#!/usr/bin/env bash
# 0051 — a model package replaced while `up` scores with it: nothing dropped, nothing scored
# twice. A deployment scores every record with a one-input logistic package in the test's work
# directory (label `low` at first). 100 records are scored, then, while records trickle in one
# every 20 ms: the model file is replaced (written to a temporary name and renamed over) by one
# that labels them `high`, and `up` must log `reloaded: generation 2` (the watch); a SIGHUP with
# nothing changed must log `generation 3`; a config.json with other class names must be refused
# with its reason while scoring goes on with the running model; 100 more records end it. Every
# key must come out exactly once; the first 100 (scored before the replacement) with the first
# model's label and probabilities, every record produced after a reload's log line with the
# second's, and no dead letter. At-least-once on both brokers; exactly-once on Apache Kafka too.
# Last, with --no-model-watch a changed package is read at a SIGHUP only.
source "$(dirname "$0")/lib.sh" "$@"

# write_model DIR INTERCEPT: DIR/model.json, replaced whole (a temporary file renamed over it)
write_model() {
    printf '{"format": "streamrun-model", "version": 1, "kind": "logistic_regression",
 "n_features": 1, "multi_class": "ovr", "coef": [[0.5]], "intercept": [%s]}\n' "$2" \
        >"$1/model.json.tmp"
    mv "$1/model.json.tmp" "$1/model.json"
}

# write_config DIR LABELS: DIR/config.json with the class names LABELS (a JSON array), replaced
# whole
write_config() {
    printf '{"input_schema": {"x": "DOUBLE"}, "output_labels": %s}\n' "$2" >"$1/config.json.tmp"
    mv "$1/config.json.tmp" "$1/config.json"
}

for d in alo eos; do
    mkdir -p "$WORK/models/$d"
    write_config "$WORK/models/$d" '["low", "high"]'
    write_model "$WORK/models/$d" -2
done
cat >"$WORK/t.yaml" <<'YAML'
metadata: {name: model-reload}
topics:
  - {name: alo-in, partitions: 4}
  - {name: alo-out, partitions: 4}
  - {name: eos-in, partitions: 4}
  - {name: eos-out, partitions: 4}
  - errors
deployments:
  - name: alo
    input: alo-in
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - model: models/alo
    output: alo-out
  - name: eos
    input: eos-in
    processing: exactly-once
    deadLetter: errors
    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
    pipeline:
      - model: models/eos
    output: eos-out
YAML
check_valid "$WORK/t.yaml"
start_broker "$WORK/t.yaml"
echo '{"x": 1.0}' >"$WORK/x.jsonl"

now_ms() { date +%s%3N; }

# wait_log LOG TEXT: waits (20 s at most) until $WORK/LOG.log holds TEXT; prints the time it
# was seen (ms)
wait_log() {
    for _ in $(seq 400); do
        if grep -qF "$2" "$WORK/$1.log"; then
            now_ms
            return
        fi
        sleep 0.05
    done
    fail "$1.log: no '$2' after 20 s: $(tail -5 "$WORK/$1.log")"
}

# batch NAME PREFIX: 100 records {"x": 1.0} keyed PREFIX-000 .. PREFIX-099 into NAME-in
batch() {
    "$PYTHON" -c '
import json, sys
for i in range(100):
    print(json.dumps({"key": "%s-%03d" % (sys.argv[1], i), "value": {"x": 1.0}}))' "$2" \
        >"$WORK/$1-$2.jsonl"
    kt produce "$ADDR" "$1-in" "$WORK/$1-$2.jsonl" >/dev/null
}

# up_pid: the process id of the streamrun that up_bg started, for a SIGHUP: `timeout` would
# forward one to it, and to its group, and then kill it 10 s later
up_pid() {
    local pid=
    for _ in $(seq 100); do
        pid=$(ps -o pid= --ppid "$UP_PID" | tr -d ' ') && [ -n "$pid" ] && break
        sleep 0.05
    done
    [ -n "$pid" ] || fail "streamrun up did not start"
    echo "$pid"
}

# stop_up NAME: SIGTERM to up_bg's run, which must exit 0
stop_up() {
    local rc=0
    kill -TERM "$UP_PID"
    wait "$UP_PID" || rc=$?
    [ "$rc" = 0 ] || fail "$1: streamrun up exited with status $rc after SIGTERM"
}

# scenario NAME: the deployment NAME over the package models/NAME, as the header says
scenario() {
    local name=$1 pkg=$WORK/models/$1 pid t_swap t2 t3 t4 n
    up_bg "$name" 170 "$WORK/t.yaml" --only "$name" --commit-interval 500ms
    pid=$(up_pid)
    batch "$name" b1
    kt wait "$ADDR" "$name-out" 100 --timeout 90 >/dev/null
    timeout 150 "$PYTHON" "$HERE/kafkatool.py" trickle "$ADDR" "$name-in" "$WORK/x.jsonl" \
        --stop-file "$WORK/$name-stop" --count-file "$WORK/$name-trickled" --limit 120 \
        2>"$WORK/$name-trickle.log" &
    local trickle=$!
    sleep 1
    t_swap=$(now_ms)
    write_model "$pkg" 2
    t2=$(wait_log "$name" "models/$name' reloaded: generation 2 (logistic_regression, 1 input)")
    echo "$name: the replaced package was reloaded $((t2 - t_swap)) ms after the rename"
    sleep 1
    kill -HUP "$pid"
    t3=$(wait_log "$name" "models/$name' reloaded: generation 3")
    sleep 1
    write_config "$pkg" '["low", "top"]'
    t4=$(wait_log "$name" "models/$name' changed but cannot replace the running model: its class 1 is 'top' where the running model's is 'high'")
    sleep 1
    touch "$WORK/$name-stop"
    wait "$trickle" || fail "$name: the trickle failed: $(cat "$WORK/$name-trickle.log")"
    n=$(cat "$WORK/$name-trickled")
    batch "$name" b2
    kt wait "$ADDR" "$name-out" $((200 + n)) --timeout 60 >/dev/null
    stop_up "$name"
    ! running "$pid" || fail "$name: streamrun up still runs"
    expect_summary "$name" "$name" $((200 + n)) $((200 + n)) 0 0 $((200 + n))
    [ "$(grep -c "models/$name' reloaded" "$WORK/$name.log")" = 2 ] ||
        fail "$name: expected 2 reloads: $(grep "models/$name'" "$WORK/$name.log")"
    kt read "$ADDR" "$name-out" "$WORK/$name-out.jsonl" >/dev/null
    "$PYTHON" - "$WORK/$name-out.jsonl" "$n" "$t2" "$t3" "$t4" <<'PY'
import json, math, sys
from collections import Counter
path, n, t2, t3, t4 = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
recs = [json.loads(l) for l in open(path)]
keys = Counter(r["key"] for r in recs)
want = {"b1-%03d" % i for i in range(100)} | {"b2-%03d" % i for i in range(100)} | \
    {"%06d:l000" % i for i in range(n)}
twice = sorted(k for k, c in keys.items() if c > 1)
missing = sorted(want - set(keys))
extra = sorted(set(keys) - want)
if twice or missing or extra:
    sys.exit("FAIL: %d keys scored twice (%s), %d missing (%s), %d unexpected (%s)"
             % (len(twice), twice[:3], len(missing), missing[:3], len(extra), extra[:3]))

def model(intercept):
    p = 1 / (1 + math.exp(-(0.5 * 1.0 + intercept)))
    return ("high" if p > 0.5 else "low", {"low": 1 - p, "high": p})

old, new = model(-2), model(2)
def scored_by(r):
    v = r["value"]
    for name, (label, probs) in (("old", old), ("new", new)):
        if v["label"] == label and v["label_index"] == ["low", "high"].index(label) and \
                v["probabilities"].keys() == probs.keys() and \
                all(abs(v["probabilities"][k] - probs[k]) < 1e-12 for k in probs):
            return name
    sys.exit("FAIL: %s was scored by neither model: %s" % (r["key"], v))

by = Counter()
for r in recs:
    m = scored_by(r)
    k, ts = r["key"], r["timestamp"]
    if k.startswith("b1-") and m != "old":
        sys.exit("FAIL: %s, scored before the replacement, has the new model's label" % k)
    if (k.startswith("b2-") or ts > t2) and m != "new":
        sys.exit("FAIL: %s, produced %d ms after the reload was logged, has the old model's "
                 "label" % (k, ts - t2))
    if not k.startswith("b"):
        by[m, "after the refusal" if ts > t4 else "after SIGHUP" if ts > t3 else ""] += 1
        by[m] += 1
if not by["old"] or not by["new"] or not by["new", "after SIGHUP"] or \
        not by["new", "after the refusal"]:
    sys.exit("FAIL: the trickle should have been scored by both models, and after the SIGHUP: %s"
             % dict(by))
print("%d records, each scored once: 100 by the first model, %d trickled (%d by the first, "
      "%d by the second), 100 by the second" % (len(recs), n, by["old"], by["new"]))
PY
}

scenario alo
if [ "$BROKER_KIND" = apache ]; then
    scenario eos
    grep -q "eos: exactly-once, transactional.id" "$WORK/eos.log" ||
        fail "eos did not run exactly-once"
fi

# --no-model-watch: a changed package waits for a SIGHUP
write_config "$WORK/models/alo" '["low", "high"]'
write_model "$WORK/models/alo" -2
up_bg nowatch 60 "$WORK/t.yaml" --only alo --no-model-watch
pid=$(up_pid)
wait_log nowatch "alo: assigned" >/dev/null
write_model "$WORK/models/alo" 2
sleep 3
! grep -F "models/alo'" "$WORK/nowatch.log" ||
    fail "--no-model-watch: the changed package was read without a SIGHUP"
kill -HUP "$pid"
wait_log nowatch "models/alo' reloaded: generation 2" >/dev/null
stop_up nowatch
echo "--no-model-watch: the package changed, read at the SIGHUP only"

kt read "$ADDR" errors "$WORK/errors.jsonl" >/dev/null
[ ! -s "$WORK/errors.jsonl" ] || fail "dead letters: $(head -c 300 "$WORK/errors.jsonl")"
echo "PASS"
