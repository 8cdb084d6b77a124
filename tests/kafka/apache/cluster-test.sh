#!/usr/bin/env bash
# cluster-test.sh — kafka.sh's own test: a complete cache is reused without mvn; a 3-node
# cluster keeps accepting acks=all writes to a topic with replication 3 and min.insync.replicas 2
# while one node is killed, takes the node back, and `stop` leaves no process and no directory;
# a compacted topic with a small segment.ms is compacted within seconds; a cluster whose --owner
# exits is stopped by its watchdog.
#
# usage: cluster-test.sh [PYTHON3]; exits 77 (skipped) when Java or Maven is missing outside CI.
set -euo pipefail
PYTHON=${1:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
KAFKA=$HERE/kafka.sh
export KAFKA_PYTHON=$PYTHON
export KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
WORK=$(mktemp -d)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

cleanup() {
    local st=$? d
    for d in "$WORK"/c3 "$WORK"/c1; do
        if [ -f "$d/nodes" ]; then
            [ "$st" = 0 ] || tail -20 "$d"/node*/broker.log >&2 || true
            "$KAFKA" stop --dir "$d" || true
        fi
    done
    [ -z "${OWNER:-}" ] || kill "$OWNER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kt() {
    timeout 120 "$PYTHON" "$HERE/../kafkatool.py" "$@"
}

# pids_of DIR: the pids recorded for the nodes of the cluster in DIR and their children.
pids_of() {
    local f
    for f in "$1"/node*/pid; do
        cat "$f"
        pgrep -P "$(cat "$f")" || true
    done
}

# records FIRST N FILE: N envelope lines keyed kFIRST.. for kafkatool produce.
records() {
    for i in $(seq "$1" $(($1 + $2 - 1))); do
        printf '{"key": "k%d", "value": {"i": %d}}\n' "$i" "$i"
    done >"$3"
}

# 1. the cache: complete after a fetch, then reused with no mvn on PATH
rc=0
cache=$("$KAFKA" fetch) || rc=$?
[ "$rc" != 77 ] || exit 77
[ "$rc" = 0 ] || fail "kafka.sh fetch exited with $rc"
mkdir "$WORK/bin"
printf '#!/bin/sh\necho "mvn called" >>%s/mvn-called\nexit 1\n' "$WORK" >"$WORK/bin/mvn"
chmod +x "$WORK/bin/mvn"
[ "$(PATH=$WORK/bin:$PATH "$KAFKA" fetch)" = "$cache" ] || fail "the second fetch failed"
[ ! -e "$WORK/mvn-called" ] || fail "a second fetch called mvn although the cache is complete"
echo "cache $cache reused without mvn"

# 2. three nodes: one killed and restarted under acks=all writes
t0=$SECONDS
addr=$("$KAFKA" start --brokers 3 --dir "$WORK/c3" --owner $$ --lifetime 300)
echo "3 nodes at $addr in $((SECONDS - t0)) s"
[ "$(cat "$WORK/c3/bootstrap")" = "$addr" ] || fail "DIR/bootstrap differs from the printed address"
[ "$(echo "$addr" | tr , '\n' | grep -c '^127\.0\.0\.1:[0-9]*$')" = 3 ] ||
    fail "expected 3 loopback addresses, got '$addr'"
kt create-topic "$addr" t 2 --replication 3 --config min.insync.replicas=2
records 0 50 "$WORK/a.jsonl"
kt produce "$addr" t "$WORK/a.jsonl"
"$KAFKA" kill-broker 2 --dir "$WORK/c3"
! "$KAFKA" status --dir "$WORK/c3" >"$WORK/status" || fail "status says all run after kill-broker"
grep -qx "2 [0-9]* stopped" "$WORK/status" || fail "node 2 is not stopped: $(cat "$WORK/status")"
records 50 50 "$WORK/b.jsonl"
kt produce "$addr" t "$WORK/b.jsonl" # two of three replicas in sync: acks=all succeeds
t0=$SECONDS
"$KAFKA" start-broker 2 --dir "$WORK/c3"
echo "node 2 back in $((SECONDS - t0)) s"
"$KAFKA" status --dir "$WORK/c3" || fail "not every node runs after start-broker"
kt read "$addr" t "$WORK/t.jsonl"
[ "$(wc -l <"$WORK/t.jsonl")" = 100 ] || fail "t holds $(wc -l <"$WORK/t.jsonl") records, not 100"
pids=$(pids_of "$WORK/c3")
t0=$SECONDS
"$KAFKA" stop --dir "$WORK/c3"
echo "stopped in $((SECONDS - t0)) s"
[ ! -e "$WORK/c3" ] || fail "stop left $WORK/c3"
for p in $pids; do ! kill -0 "$p" 2>/dev/null || fail "process $p outlived stop"; done

# 3. one node: compaction within seconds, then the watchdog: the cluster goes when its owner does
sleep 300 &
OWNER=$!
addr=$("$KAFKA" start --dir "$WORK/c1" --owner "$OWNER" --lifetime 300)
kt create-topic "$addr" c 1 --config cleanup.policy=compact --config segment.ms=100
for round in 0 1 2 3 4; do
    for k in $(seq 0 9); do
        printf '{"key": "k%d", "value": {"round": %d}}\n' "$k" "$round"
    done >"$WORK/round.jsonl"
    kt produce "$addr" c "$WORK/round.jsonl" >/dev/null
    sleep 0.3 # past segment.ms: the next round's first record rolls a new segment
done
for _ in $(seq 60); do
    kt read "$addr" c "$WORK/c.jsonl" >/dev/null
    [ "$(wc -l <"$WORK/c.jsonl")" -gt 20 ] || break
    sleep 0.5
done
n=$(wc -l <"$WORK/c.jsonl")
[ "$n" -le 20 ] || fail "c still holds $n of the 50 records after 30 s: no compaction"
"$PYTHON" - "$WORK/c.jsonl" <<'PY' || fail "compaction lost the latest value of a key"
import json, sys
last = {}
for r in map(json.loads, open(sys.argv[1])):
    last[r["key"]] = r["value"]["round"]
sys.exit(0 if last == {"k%d" % k: 4 for k in range(10)} else 1)
PY
echo "compaction: c holds $n of the 50 records, the latest of each key among them"
pids=$(pids_of "$WORK/c1")
kill "$OWNER"
for _ in $(seq 60); do
    [ -e "$WORK/c1" ] || break
    sleep 0.5
done
[ ! -e "$WORK/c1" ] || fail "the cluster outlived its owner by 30 s"
for p in $pids; do ! kill -0 "$p" 2>/dev/null || fail "process $p outlived its owner"; done
echo "the cluster stopped when its owner exited"
echo "PASS"
