#!/usr/bin/env bash
# 0019 — a broker killed mid-stream and restarted, on a 3-node Apache Kafka cluster: topics declared
# with replication factor 3 and min.insync.replicas=2 (`up` creates them), `up`'s producers
# idempotent (so acks=all).
# One `up --exit-at-end` runs a file of two deployments: `feed` replays N records at RATE a second
# into in-MODE (so the run lasts N / RATE seconds whatever the machine's speed), and `work`
# filters, explodes and dead-letters them into out-MODE and dead-MODE. Once outputs flow, the
# broker that leads the most partitions of in-MODE and out-MODE is killed with SIGKILL; while it
# is down, every output partition must take new records (its leadership moved to a surviving
# replica, acks=all met by two); then it is restarted and rejoins every partition's in-sync
# replicas. `up` must run on through all of it: exit 0, never stopped, the summary adding up.
# Compared with a clean `streamrun run` of the same file (multisets of key and value):
# - at-least-once: in-MODE exactly the records fed (idempotent producer: a retry after the
#   failover writes no copy), out-MODE and dead-MODE with 0 lost, duplicates counted and printed;
# - processing: exactly-once (a second pass; the broker killed is the coordinator of the member's
#   transactional.id, whose successor may fence the member's producer: `up` must renew it and go
#   on): out-MODE and dead-MODE, read with read_committed, exactly the clean output.
# A real cluster is the point (the embedded broker has no replicas to fail over to), so it runs on
# Apache Kafka only:
# brokers: apache
source "$(dirname "$0")/lib.sh" "$@"
RATE=${RATE:-400}
N=${N:-24000}
echo "N=$N RATE=$RATE (a feed of $((N / RATE)) s)"

# the inputs: unique ids; every fifth filtered out, one in seven a dead letter (n is not a
# number), 1 to 3 outputs each
"$PYTHON" - "$N" >"$WORK/feed.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    n = "x%d" % i if i % 7 == 3 else i
    print(json.dumps({"id": "r%07d" % i, "n": n, "parts": list(range(i % 3 + 1))}))
PY
export FEED=$WORK/feed.jsonl

# topology MODE: writes $WORK/MODE.yaml
topology() {
    cat >"$WORK/$1.yaml" <<YAML
metadata: {name: failover-$1}
topics:
  - {name: in-$1, partitions: 4, replicationFactor: 3, config: {min.insync.replicas: 2}}
  - {name: out-$1, partitions: 4, replicationFactor: 3, config: {min.insync.replicas: 2}}
  - {name: dead-$1, partitions: 2, replicationFactor: 3, config: {min.insync.replicas: 2}}
deployments:
  - name: feed
    source: {file: "\${FEED}", format: jsonl, key: id, rate: $RATE}
    output: in-$1
  - name: work
    input: in-$1
    consumerGroup: failover-$1
    processing: $1
    deadLetter: dead-$1
    pipeline:
      - filter: n % 5 != 0
      - explode: {field: parts, as: part}
      - set: {double: n * 2}
    output: out-$1
YAML
    "$STREAMRUN" validate "$WORK/$1.yaml" 2>"$WORK/validate.log" ||
        fail "$1.yaml is not valid: $(cat "$WORK/validate.log")"
}

# out_highs TOPIC: the partitions' high watermarks, space-separated; nothing when they cannot be
# had in 20 s (librdkafka 2.0.2's watermark query waits past its timeout for a dead leader)
out_highs() {
    timeout 20 "$PYTHON" "$HERE/kafkatool.py" watermarks "$ADDR" "$1" 2>/dev/null |
        "$PYTHON" -c 'import json, sys; print(*json.load(sys.stdin)["high"])' 2>/dev/null || true
}

# led_by BROKER TOPIC...: the partitions of TOPIC... that BROKER leads, or that have no leader
led_by() {
    kt leaders "$ADDR" "${@:2}" 2>/dev/null | awk -v b="$1" '$1 == b || $1 == -1 {$1 = ""; print}'
}

up_running() {
    kill -0 "$UP_PID" 2>/dev/null || {
        wait "$UP_PID" || true
        fail "$1: up is no longer running"
    }
}

# failover MODE: one pass, as the header says
failover() {
    local mode=$1 in=in-$1 out=out-$1 dead=dead-$1
    topology "$mode"
    reference "$WORK/$mode.yaml" "$WORK/ref-$mode"
    up_bg "$mode" 240 "$WORK/$mode.yaml" --exit-at-end # it creates the topics as declared
    local t0=$SECONDS
    until kt topics "$ADDR" 2>/dev/null | grep -qx -- "$out"; do
        up_running "before its topics were created"
        [ $((SECONDS - t0)) -lt 60 ] || fail "up created no topic $out in 60 s"
        sleep 0.5
    done
    kt wait "$ADDR" "$out" 500 --timeout 90 >/dev/null
    local topic
    for topic in "$in" "$out" "$dead"; do
        kt describe "$ADDR" "$topic" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
if d["replication"] != 3 or d["configs"]["min.insync.replicas"] != "2":
    sys.exit("%s: replication %s, min.insync.replicas %s" % (sys.argv[1], d["replication"],
             d["configs"]["min.insync.replicas"]))' "$topic" || fail "$topic is not as declared"
    done
    up_running "before the kill"

    local victim led before after rc=0 leaders
    leaders=$(kt leaders "$ADDR" "$in" "$out")
    read -r victim led <<<"${leaders%%$'\n'*}"
    if [ "$mode" = exactly-once ]; then
        # the worst broker to lose for a transaction: its coordinator (the one taking over may
        # fence the member's producer: it must renew it and go on)
        local id
        id=$(sed -n 's/^streamrun: work: exactly-once, transactional.id //p' "$WORK/$mode.log")
        [ -n "$id" ] || fail "work printed no transactional.id"
        victim=$(kt coordinator "$ADDR" --txn "$id")
        led=$(kt leaders "$ADDR" "$in" "$out" | awk -v b="$victim" '$1 == b {$1 = ""; print}')
        echo "$mode: broker $victim coordinates transactional.id $id;" \
            "the group's coordinator is broker $(kt coordinator "$ADDR" --group "failover-$mode")"
    fi
    [ "$victim" -ge 1 ] || fail "no leader for $led"
    before=$(out_highs "$out")
    [ -n "$before" ] || fail "cannot read the offsets of $out"
    "$KAFKA_SH" kill-broker "$victim" --dir "$WORK/kafka"
    "$KAFKA_SH" status --dir "$WORK/kafka" >/dev/null && fail "node $victim still runs"
    echo "$mode: SIGKILL to broker $victim, leader of $led; $out at offsets $before"

    # down until the controller has moved its partitions' leadership to the other replicas (it
    # fences a broker that stopped heartbeating after broker.session.timeout.ms, 9 s), then until
    # every output partition has taken records without it
    t0=$SECONDS
    while [ -n "$(led_by "$victim" "$in" "$out" "$dead")" ]; do
        up_running "with broker $victim down"
        [ $((SECONDS - t0)) -lt 90 ] ||
            fail "90 s after the kill, partitions still led by $victim: $(led_by "$victim" "$in" "$out" "$dead")"
        sleep 0.5
    done
    echo "$mode: $((SECONDS - t0)) s after the kill, the other brokers lead every partition"
    while :; do
        sleep 1
        up_running "with broker $victim down"
        after=$(out_highs "$out")
        if [ -n "$after" ] && paste <(tr ' ' '\n' <<<"$before") <(tr ' ' '\n' <<<"$after") |
            awk '$2 <= $1 {bad = 1} END {exit bad}'; then
            break
        fi
        [ $((SECONDS - t0)) -lt 120 ] ||
            fail "$out at offsets ${after:-?} $((SECONDS - t0)) s after the kill (at $before then)"
    done
    echo "$mode: $((SECONDS - t0)) s after the kill, every partition of $out has taken records" \
        "without broker $victim: offsets $after"

    "$KAFKA_SH" start-broker "$victim" --dir "$WORK/kafka" >/dev/null
    up_running "when broker $victim was restarted"
    kt wait-isr "$ADDR" 3 "$in" "$out" "$dead" --timeout 120
    if kill -0 "$UP_PID" 2>/dev/null; then
        echo "$mode: broker $victim restarted and in sync, up still running"
    else
        echo "$mode: broker $victim restarted and in sync, up had finished by then"
    fi

    wait "$UP_PID" || rc=$?
    [ "$rc" = 0 ] || fail "up ($mode) exited with status $rc through the failover"
    ! grep -n 'stopped' "$WORK/$mode.log" || fail "up ($mode) stopped a deployment"
    echo "$mode: up exit 0"
    echo "  $(summary "$mode" feed)"
    echo "  $(summary "$mode" work)"
    echo "  librdkafka's log lines (connections refused, retries): $(grep -c '^%[0-9]|' "$WORK/$mode.log")," \
        "transactions aborted: $(grep -c 'transaction aborted' "$WORK/$mode.log" || true)"
    # the feed: every record once; work: each input delivered, filtered or dead-lettered
    expect_summary "$mode" feed "$N" "$N" 0 0 "$N"
    local x d f e o
    read -r x d f e o < <(summary "$mode" work |
        sed -E 's/^work: ([0-9]+) in \(([0-9]+) delivered, ([0-9]+) filtered, ([0-9]+) dead-lettered\), ([0-9]+) out.*/\1 \2 \3 \4 \5/')
    [ -n "$o" ] || fail "no summary for work in $mode.log"
    [ "$x" = $((d + f + e)) ] || fail "work's summary does not add up: $x in, $d + $f + $e"
    [ "$x" -ge "$N" ] || fail "work read $x inputs of $N"
    if [ "$mode" = exactly-once ]; then
        [ "$x" = "$N" ] || fail "exactly-once counted $x inputs of $N"
    fi
    grep -qE '^total: [0-9]+ in \(' "$WORK/$mode.log" || fail "no total line in $mode.log"

    local how=--no-loss
    [ "$mode" = at-least-once ] || how=--exact
    kt read "$ADDR" "$in" "$WORK/$in.jsonl" >/dev/null
    kt compare "$WORK/ref-$mode/$in.jsonl" "$WORK/$in.jsonl" --exact
    for topic in "$out" "$dead"; do
        kt read "$ADDR" "$topic" "$WORK/$topic.jsonl" >/dev/null
        kt compare "$WORK/ref-$mode/$topic.jsonl" "$WORK/$topic.jsonl" "$how"
    done
}

topology at-least-once
start_broker "$WORK/at-least-once.yaml" --brokers 3 --no-topics
failover at-least-once
failover exactly-once
echo "PASS"
