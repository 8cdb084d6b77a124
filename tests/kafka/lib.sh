# lib.sh — sourced by the Kafka test scripts: a work directory, a broker on loopback (the embedded
# one or Apache Kafka, by SR_KAFKA_BROKER), `streamrun up` runs with a time limit, summary checks,
# and cleanup of every process started.
#
# A script sources it with `source "$(dirname "$0")/lib.sh" "$@"`; its arguments are the
# streamrun binary and, optionally, the python3 with confluent_kafka (default /usr/bin/python3).
# KEEP=1 keeps the work directory. Every process is started under `timeout -k`, so that none
# outlives the test even when the script itself is killed, or ignores SIGTERM.
set -euo pipefail

STREAMRUN=$(realpath "${1:?usage: $0 STREAMRUN [PYTHON3]}")
PYTHON=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PHONE=$ROOT/pipelines/phone-normalization.yaml
TELEMETRY=$ROOT/pipelines/data/phone-telemetry.jsonl
KAFKA_SH=$HERE/apache/kafka.sh
# Apache Kafka's JVM without the optimising compiler: it starts with half the CPU time, and the
# tests' loads are small
export KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
BROKER_KIND=${SR_KAFKA_BROKER:-embedded}
cd "$ROOT"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

"$PYTHON" -c 'import confluent_kafka' 2>/dev/null ||
    fail "$PYTHON cannot import confluent_kafka: apt-get install -y python3-confluent-kafka"

WORK=$(mktemp -d)

# running PID: the process runs (a zombie, exited but not yet waited for, does not).
running() {
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case $s in Z*) return 1 ;; *) return 0 ;; esac
}

# Stops the background jobs of this shell that are still running, each by its process id and
# the latest first (`up` runs and producers before the broker they use): SIGTERM, which `timeout
# -k 10` turns into SIGKILL 10 s later (SIGKILL from here after 15 s). A process that had to be
# killed fails the test, saying which, rather than hanging it until ctest's timeout. Then stops
# Apache Kafka and removes the work directory.
cleanup() {
    local st=$? pids pid i what rc
    pids=$(jobs -p | tac)
    for pid in $pids; do
        running "$pid" || continue
        what=$(ps -o args= --ppid "$pid" | head -1 | cut -c1-160)
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            running "$pid" || break
            sleep 0.1
        done
        if running "$pid"; then
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [ "$rc" = 137 ]; then
            echo "FAIL: did not stop on SIGTERM within 10 s, killed: ${what:-process $pid}" >&2
            [ "$st" != 0 ] || st=1
        fi
    done
    if [ -f "$WORK/kafka/nodes" ]; then
        if [ "$st" != 0 ] && [ "$st" != 77 ]; then
            for f in "$WORK"/kafka/node*/broker.log; do
                echo "---- Apache Kafka's $(basename "$(dirname "$f")")/broker.log (last 20 lines)"
                tail -20 "$f"
            done
        fi
        local keep=()
        [ "${KEEP:-0}" != 1 ] || keep=(--keep)
        "$KAFKA_SH" stop --dir "$WORK/kafka" "${keep[@]}" || true
    fi
    if [ "$st" != 0 ] && [ "$st" != 77 ]; then
        for f in "$WORK"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $(basename "$f") (last 20 lines)"
            tail -20 "$f"
        done
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kt() {
    timeout -k 10 150 "$PYTHON" "$HERE/kafkatool.py" "$@"
}

# start_broker FILE [--no-topics] [--set KEY=VALUE]... [--brokers 3]: a broker on loopback with
# FILE's topics; sets ADDR. SR_KAFKA_BROKER (set by kafka.cmake) picks it: "embedded" (the
# default), `streamrun broker FILE` in the background; or "apache", one Apache Kafka node started
# by apache/kafka.sh in $WORK/kafka (stopped by cleanup, or by the script's watchdog when this
# shell dies), where the file's topics are created as `up` would create them (partitions,
# replicationFactor, config:; kafkatool create-topics) before anything is produced — producing to
# a missing topic would create it with the broker's default of 1 partition. On Apache Kafka only:
# --no-topics leaves creating them to `up` (the embedded broker always creates them from FILE),
# --set adds a broker setting, and --brokers 3 starts a 3-node cluster (ADDR lists the three;
# `kafka.sh kill-broker N --dir $WORK/kafka` stops node N). Exits 77 (skipped) when Java or Maven
# is missing, outside CI.
# check_valid FILE: fails the test unless `streamrun validate` accepts FILE (the test's own
# topology), quoting what it said.
check_valid() {
    "$STREAMRUN" validate "$1" 2>"$WORK/validate.log" ||
        fail "the test file is not valid: $(cat "$WORK/validate.log")"
}

# produce_keyed TOPIC FILE: writes FILE's records (kafkatool.py's JSON lines) to TOPIC, each key
# in its murmur2 partition (murmur2_random), as Java clients and streamrun's producers place
# them: what co-partitioned tables and joins rely on. Call after start_broker.
produce_keyed() {
    kt produce "$ADDR" "$1" "$2" --partitioner murmur2_random >/dev/null
}

start_broker() {
    local file=${1:?start_broker FILE} topics=1 sets=()
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --no-topics) topics=0; shift ;;
        --set) sets+=(--set "$2"); shift 2 ;;
        --brokers) sets+=(--brokers "$2"); shift 2 ;;
        *) fail "start_broker: unknown argument '$1'" ;;
        esac
    done
    case $BROKER_KIND in
    embedded) start_embedded "$file" ;;
    apache) start_apache "$file" "$topics" "${sets[@]}" ;;
    *) fail "SR_KAFKA_BROKER=$BROKER_KIND: expected embedded or apache" ;;
    esac
    case $ADDR in 127.0.0.1:*) ;; *) fail "the broker is not on loopback: $ADDR" ;; esac
    echo "broker ($BROKER_KIND): $ADDR"
}

start_embedded() {
    timeout -k 10 300 "$STREAMRUN" broker "$1" --address-file "$WORK/addr" 2>"$WORK/broker.log" &
    BROKER_PID=$!
    for _ in $(seq 200); do
        [ -s "$WORK/addr" ] && break
        kill -0 "$BROKER_PID" 2>/dev/null || fail "the broker did not start"
        sleep 0.05
    done
    [ -s "$WORK/addr" ] || fail "the broker wrote no address in 10 s"
    ADDR=$(head -1 "$WORK/addr")
}

# start_apache FILE CREATE_TOPICS(0|1) [kafka.sh start option]...
start_apache() {
    local file=$1 topics=$2 rc=0
    shift 2
    KAFKA_PYTHON=$PYTHON "$KAFKA_SH" start --dir "$WORK/kafka" --owner $$ --lifetime 600 "$@" \
        >/dev/null 2>"$WORK/kafka-start.log" || rc=$?
    if [ "$rc" = 77 ]; then
        cat "$WORK/kafka-start.log" >&2
        exit 77
    fi
    [ "$rc" = 0 ] || fail "Apache Kafka did not start: $(tail -5 "$WORK/kafka-start.log")"
    ADDR=$(cat "$WORK/kafka/bootstrap")
    [ "$topics" = 0 ] || kt create-topics "$ADDR" "$file" >/dev/null
}

broker_alive() {
    case $BROKER_KIND in
    embedded) kill -0 "$BROKER_PID" 2>/dev/null || fail "the broker died" ;;
    *) "$KAFKA_SH" status --dir "$WORK/kafka" >/dev/null || fail "the broker died" ;;
    esac
}

# up LOG LIMIT ARGS...: runs `streamrun up ARGS --broker $ADDR` for at most LIMIT seconds with
# stderr in $WORK/LOG.log; sets RC and SECS (wall time).
up() {
    local log=$1 limit=$2
    shift 2
    local t0 t1
    t0=$(date +%s.%N)
    RC=0
    timeout -k 10 "$limit" "$STREAMRUN" up "$@" --broker "$ADDR" 2>"$WORK/$log.log" || RC=$?
    t1=$(date +%s.%N)
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
    case $RC in 124 | 137) fail "streamrun up $* did not finish in $limit s" ;; esac
    broker_alive
}

# up_bg LOG LIMIT ARGS...: the same in the background; sets UP_PID (wait for it to get its status).
up_bg() {
    local log=$1 limit=$2
    shift 2
    timeout -k 10 "$limit" "$STREAMRUN" up "$@" --broker "$ADDR" 2>"$WORK/$log.log" &
    UP_PID=$!
}

# phone8: writes $WORK/phone-8.yaml, the phone pipeline with raw-data on 8 partitions (its unused
# replay source given absolutely, through TELEMETRY_FILE, which it exports).
phone8() {
    sed -e 's/{name: raw-data, partitions: 4}/{name: raw-data, partitions: 8}/' "$PHONE" \
        >"$WORK/phone-8.yaml"
    grep -q 'name: raw-data, partitions: 8' "$WORK/phone-8.yaml" ||
        fail "cannot make the 8-partition copy"
    export TELEMETRY_FILE=$TELEMETRY
}

# wait_members PID_A PID_B: waits for the two data-normalization members started with up_bg as
# logs a and b; fails unless both exit 0; sets IN_A and IN_B to the records each read, and prints
# their summaries.
wait_members() {
    local rc_a=0 rc_b=0
    wait "$1" || rc_a=$?
    wait "$2" || rc_b=$?
    broker_alive
    [ "$rc_a" = 0 ] || fail "member a exited with status $rc_a"
    [ "$rc_b" = 0 ] || fail "member b exited with status $rc_b"
    IN_A=$(count_in a data-normalization)
    IN_B=$(count_in b data-normalization)
    echo "member a: $(summary a data-normalization)"
    echo "member b: $(summary b data-normalization)"
}

# summary LOG DEPLOYMENT: the deployment's summary line from LOG,
# "NAME: N in (N delivered, N filtered, N dead-lettered), N out, ...".
summary() {
    grep -E "^$2: [0-9]+ in \\(" "$WORK/$1.log" | tail -1 || true
}

# count_in LOG DEPLOYMENT: N of "N in" on the deployment's summary line (fails without one).
count_in() {
    local line
    line=$(summary "$1" "$2")
    [ -n "$line" ] || fail "no summary line for $2 in $1.log"
    echo "$line" | sed -E 's/^[^:]+: ([0-9]+) in .*/\1/'
}

# expect_summary LOG DEPLOYMENT IN DELIVERED FILTERED DEAD OUT: the deployment's summary line
# says so (the inputs, what became of them, and the records written).
expect_summary() {
    local line want
    line=$(summary "$1" "$2")
    want="$2: $3 in ($4 delivered, $5 filtered, $6 dead-lettered), $7 out"
    case $line in
    "$want, "*) echo "summary ok: $want" ;;
    *) fail "$1.log: expected the summary '$want, ...', got '${line:-nothing}'" ;;
    esac
}

# eos_phone SRC OUT [PROPS]: writes OUT, the phone pipeline file SRC with processing: exactly-once
# and kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500[, PROPS]} on data-normalization
# (a 6 s session: rebalances within the tests' time).
eos_phone() {
    local props="session.timeout.ms: 6000, heartbeat.interval.ms: 500${3:+, $3}"
    sed -e 's/^    consumerGroup: data-normalisation-v1$/&\n    processing: exactly-once/' \
        -e "s/^    consumerGroup: data-normalisation-v1\$/&\n    kafka: {$props}/" "$1" >"$2"
    [ "$(grep -c '^    processing: exactly-once$' "$2")" = 1 ] || fail "cannot make $2"
}

# trickle_from FIRST: in the background, a record of the telemetry every 20 ms into raw-data from
# line FIRST on, until $WORK/stop exists (at most 150 s); sets TRICKLE (wait for it), and the
# count goes to $WORK/trickled.
trickle_from() {
    timeout 170 "$PYTHON" "$HERE/kafkatool.py" trickle "$ADDR" raw-data "$TELEMETRY" --first "$1" \
        --stop-file "$WORK/stop" --count-file "$WORK/trickled" --limit 150 2>"$WORK/trickle.log" &
    TRICKLE=$!
}

# reference NAME OUTDIR ARGS...: `streamrun run FILE --envelope --out OUTDIR ARGS`, quietly.
reference() {
    local file=$1 out=$2
    shift 2
    "$STREAMRUN" run "$file" --envelope --out "$out" "$@" 2>"$WORK/reference.log" ||
        fail "streamrun run $file failed"
}
