#!/usr/bin/env bash
# kafka.sh — Apache Kafka for tests: fetches the broker with Maven into a cache outside the tree,
# and starts, stops and breaks a 1- or 3-node KRaft cluster on 127.0.0.1.
#
# usage:
#   kafka.sh fetch
#       Copies org.apache.kafka:kafka_2.13 and its runtime dependencies (pom.xml beside this
#       script) into the cache directory and prints that directory. When the cache is complete
#       it does nothing (no mvn call, works offline).
#   kafka.sh start [--brokers 1|3] [--dir DIR] [--owner PID] [--lifetime SECS] [--set KEY=VALUE]...
#       Fetches if needed, formats KRaft storage under DIR, starts combined broker+controller
#       nodes on free loopback ports, waits until every broker answers metadata requests, prints
#       the bootstrap address (host:port[,host:port...]) on stdout and writes it to DIR/bootstrap.
#       --owner PID: the cluster is stopped when process PID exits (a test passes its own $$).
#       --lifetime SECS (default 3600): no node runs longer than that, whatever happens.
#       --set KEY=VALUE: an extra broker setting (repeatable), after the defaults below.
#   kafka.sh stop [--dir DIR] [--keep]
#       SIGTERM to every node, SIGKILL to those still running after KAFKA_STOP_TIMEOUT seconds
#       (default 20), then removes DIR (--keep keeps it, with the logs).
#   kafka.sh kill-broker N [--dir DIR] [--signal KILL|TERM]
#       Stops node N (1-based) with SIGKILL (default) or SIGTERM, and waits until it is gone.
#   kafka.sh start-broker N [--dir DIR]
#       Starts node N again on its ports and data, and waits until it answers metadata requests.
#   kafka.sh status [--dir DIR]
#       One line per node: "N PORT running|stopped"; exit 1 unless all are running.
#
# Files in DIR: bootstrap (the address), nodes (their count), nodeN/{server.properties,
# broker.log, stdout.log, pid, port}. Broker logs go to DIR/nodeN/broker.log, never to stdout.
#
# Settings for tests: group.initial.rebalance.delay.ms=0; internal topics (consumer offsets,
# transaction state) with replication 1 and min.isr 1 on one node, replication 3 and min.isr 2
# on three (one node may be down); default.replication.factor = the node count; segments of
# 1 MiB and a cleaner that checks every 100 ms with min.cleanable.ratio 0.01, so that compaction
# is observable (set segment.ms on a topic to roll its segments quickly); listeners on 127.0.0.1.
#
# Environment:
#   STREAMRUN_KAFKA_VERSION  the kafka_2.13 version (default: kafka.version in pom.xml)
#   STREAMRUN_KAFKA_CACHE    the cache directory
#                            (default ${XDG_CACHE_HOME:-$HOME/.cache}/streamrun/kafka-VERSION)
#   STREAMRUN_KAFKA_DIR      the run directory when --dir is not given
#                            (default ${TMPDIR:-/tmp}/streamrun-kafka-$(id -u))
#   KAFKA_PYTHON             a python3 with confluent_kafka, for the metadata check
#                            (default /usr/bin/python3)
#   KAFKA_JVM_OPTS           JVM options per node (default -Xms64m -Xmx512m -XX:+UseSerialGC)
#   KAFKA_START_TIMEOUT      seconds to wait for a cluster to answer (default 120)
#   KAFKA_STOP_TIMEOUT       seconds between SIGTERM and SIGKILL in stop (default 20)
#   KAFKA_CDS                1 (default): a class-data sharing archive in the cache, written by
#                            the first broker that stops cleanly, speeds up later JVM starts; 0: none
#   JAVA_HOME                the Java to run (default: java on PATH; Java 17 or newer)
#
# Exit status: 0 done; 77 Java or Maven is missing (the message says what to install; a test
# harness can count it as skipped), but 1 when CI=true; 1 anything else.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
POM=$HERE/pom.xml
VERSION=${STREAMRUN_KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")}
CACHE=${STREAMRUN_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamrun/kafka-$VERSION}
PYTHON=${KAFKA_PYTHON:-/usr/bin/python3}
JVM_OPTS=${KAFKA_JVM_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-20}
CDS=${KAFKA_CDS:-1}
if [ -n "${JAVA_HOME:-}" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
INSTALL_HINT="apt-get install -y default-jre-headless maven"

die() {
    echo "kafka.sh: $*" >&2
    exit 1
}

missing() {
    echo "kafka.sh: $1 is not installed: $INSTALL_HINT" >&2
    [ "${CI:-}" != true ] || exit 1 # CI installs them (.ci/run): there the tests must run
    exit 77
}

# ---- the cache ---------------------------------------------------------------------------------

# complete: the cache holds every jar its list names (the list is written last).
complete() {
    local jar
    [ -s "$CACHE/jars.txt" ] || return 1
    while read -r jar; do
        [ -f "$CACHE/lib/$jar" ] || return 1
    done <"$CACHE/jars.txt"
}

# fetch: fills the cache with mvn unless it is complete; one fetch at a time (flock).
fetch() {
    complete && return 0
    command -v mvn >/dev/null || missing mvn
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock 9
    if ! complete; then
        local tmp
        tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
        echo "kafka.sh: fetching kafka_2.13 $VERSION and its dependencies into $CACHE" >&2
        if ! mvn -q -B -f "$POM" -Dkafka.version="$VERSION" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
            cat "$tmp/mvn.log" >&2
            rm -rf "$tmp"
            die "mvn could not fetch kafka_2.13 $VERSION"
        fi
        [ -f "$tmp/lib/kafka_2.13-$VERSION.jar" ] || die "mvn fetched no kafka_2.13-$VERSION.jar"
        rm -rf "$CACHE/lib"
        mv "$tmp/lib" "$CACHE/lib"
        rm -rf "$tmp"
        (cd "$CACHE/lib" && ls -- *.jar) >"$CACHE/jars.txt.new"
        mv "$CACHE/jars.txt.new" "$CACHE/jars.txt"
    fi
    exec 9>&-
}

# ---- a cluster ---------------------------------------------------------------------------------

DIR=${STREAMRUN_KAFKA_DIR:-${TMPDIR:-/tmp}/streamrun-kafka-$(id -u)}

need_java() {
    command -v "$JAVA" >/dev/null || missing java
}

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line.
free_ports() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# write_config N NODES VOTERS BPORT CPORT: DIR/nodeN/server.properties and log4j2.xml.
write_config() {
    local n=$1 nodes=$2 voters=$3 bport=$4 cport=$5 d=$DIR/node$1 rf=1 isr=1
    if [ "$nodes" -ge 3 ]; then rf=3 isr=2; fi
    mkdir -p "$d/data"
    cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$d/data
num.partitions=1
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=8
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
log.segment.bytes=1048576
log.cleaner.backoff.ms=100
log.cleaner.min.cleanable.ratio=0.01
log.cleaner.dedupe.buffer.size=16777216
log.cleaner.threads=1
log.retention.check.interval.ms=1000
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
EOF
    local kv
    for kv in "${SETS[@]}"; do echo "$kv" >>"$d/server.properties"; done
    echo "$bport" >"$d/port"
    cat >"$d/log4j2.xml" <<EOF
<Configuration status="warn">
  <Appenders>
    <File name="file" fileName="$d/broker.log">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="org.apache.kafka.controller" level="info"/>
    <Root level="info"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
EOF
}

# cds_archive: where the class-data sharing archive of this Java and the cached jars lives. A
# JVM started with it loads the broker's classes from one mapped file: a node's start takes
# about half the CPU time.
cds_archive() {
    local j
    j=$(readlink -f "$(command -v "$JAVA")")
    echo "$CACHE/cds-$(printf %s "$j" | md5sum | cut -c1-12).jsa"
}

# java_cmd N [broker]: sets JAVA_CMD to the java command line of node N, up to its main class.
# With the archive in the cache it uses it; without, node 1's broker writes one when it exits
# (cmd_stop moves it into the cache).
java_cmd() {
    local d=$DIR/node$1 opts cds=()
    read -r -a opts <<<"$JVM_OPTS"
    if [ "$CDS" = 1 ]; then
        local archive
        archive=$(cds_archive)
        if [ -s "$archive" ]; then
            cds=(-XX:SharedArchiveFile="$archive")
        elif [ "$1" = 1 ] && [ "${2:-}" = broker ]; then
            cds=(-XX:ArchiveClassesAtExit="$d/classes.jsa")
        fi
    fi
    JAVA_CMD=("$JAVA" "${opts[@]}" "${cds[@]}" -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$d/log4j2.xml" -Dkafka.logs.dir="$d" -cp "$CACHE/lib/*")
}

# keep_cds: moves the archive node 1 wrote at its exit, if any, into the cache.
keep_cds() {
    local f=$DIR/node1/classes.jsa archive
    [ "$CDS" = 1 ] && [ -s "$f" ] || return 0
    archive=$(cds_archive)
    [ -s "$archive" ] && return 0
    cp "$f" "$archive.$$" && mv "$archive.$$" "$archive" || rm -f "$archive.$$"
}

# launch N: starts node N in the background under `timeout`; DIR/nodeN/pid is timeout's pid.
launch() {
    local d=$DIR/node$1 lifetime
    lifetime=$(cat "$DIR/lifetime")
    java_cmd "$1" broker
    setsid timeout -k 10 "$lifetime" "${JAVA_CMD[@]}" kafka.Kafka "$d/server.properties" \
        >"$d/stdout.log" 2>&1 </dev/null &
    echo $! >"$d/pid"
}

# node_pids N: the pids of node N (timeout's and java's) that still run.
node_pids() {
    local f=$DIR/node$1/pid pid
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    kill -0 "$pid" 2>/dev/null || return 0
    echo "$pid"
    pgrep -P "$pid" || true
}

running() {
    [ -n "$(node_pids "$1")" ]
}

# stop_nodes SIGNAL N...: sends SIGNAL to the nodes' java processes (to `timeout` where java is
# gone), waits; SIGKILL to all after STOP_TIMEOUT seconds.
stop_nodes() {
    local sig=$1 n p pids=() targets=() t
    shift
    for n in "$@"; do
        local mine
        mapfile -t mine < <(node_pids "$n")
        [ "${#mine[@]}" -gt 0 ] || continue
        pids+=("${mine[@]}")
        if [ "${#mine[@]}" -gt 1 ]; then targets+=("${mine[@]:1}"); else targets+=("${mine[0]}"); fi
    done
    [ "${#pids[@]}" -gt 0 ] || return 0
    kill -s "$sig" "${targets[@]}" 2>/dev/null || true
    for ((t = 0; t < STOP_TIMEOUT * 10; t++)); do
        any_alive "${pids[@]}" || return 0
        sleep 0.1
    done
    echo "kafka.sh: node(s) $* still running after $STOP_TIMEOUT s: SIGKILL" >&2
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for ((t = 0; t < 50; t++)); do
        any_alive "${pids[@]}" || return 0
        sleep 0.1
    done
}

any_alive() {
    local p
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}

# wait_ready N...: waits until every node named answers a metadata request listing it.
wait_ready() {
    local n ports=()
    for n in "$@"; do ports+=("$(cat "$DIR/node$n/port")"); done
    "$PYTHON" -c 'import confluent_kafka' 2>/dev/null ||
        die "$PYTHON cannot import confluent_kafka: apt-get install -y python3-confluent-kafka"
    local deadline=$((SECONDS + START_TIMEOUT))
    for n in "$@"; do
        local port
        port=$(cat "$DIR/node$n/port")
        while :; do
            running "$n" || {
                tail -20 "$DIR/node$n/broker.log" "$DIR/node$n/stdout.log" >&2 2>/dev/null || true
                die "node $n exited while starting (logs in $DIR/node$n)"
            }
            "$PYTHON" - "127.0.0.1:$port" "$n" <<'EOF' && break
import sys
from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0,
                 "log.connection.close": False})
try:
    md = a.list_topics(timeout=2)
except Exception:
    sys.exit(1)
sys.exit(0 if int(sys.argv[2]) in md.brokers and md.controller_id >= 0 else 1)
EOF
            [ "$SECONDS" -lt "$deadline" ] || die "node $n did not answer in $START_TIMEOUT s"
            sleep 0.3
        done
    done
}

# watchdog OWNER: stops the cluster when process OWNER exits (or DIR goes away).
watchdog() {
    local owner=$1
    setsid bash -c '
        while kill -0 "$1" 2>/dev/null && [ -f "$2/nodes" ]; do sleep 1; done
        [ -f "$2/nodes" ] && exec "$3" stop --dir "$2"' watchdog "$owner" "$DIR" "$SELF" \
        >/dev/null 2>&1 </dev/null &
    echo $! >"$DIR/watchdog"
}

cmd_start() {
    local nodes=1 owner="" lifetime=3600
    SETS=()
    while [ $# -gt 0 ]; do
        case $1 in
        --brokers) nodes=${2:?}; shift 2 ;;
        --dir) DIR=${2:?}; shift 2 ;;
        --owner) owner=${2:?}; shift 2 ;;
        --lifetime) lifetime=${2:?}; shift 2 ;;
        --set) SETS+=("${2:?}"); shift 2 ;;
        *) die "start: unknown argument '$1'" ;;
        esac
    done
    case $nodes in 1 | 3) ;; *) die "start: --brokers must be 1 or 3" ;; esac
    need_java
    fetch
    if [ -f "$DIR/nodes" ]; then
        die "a cluster already runs in $DIR (kafka.sh stop --dir $DIR)"
    fi
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    rm -rf "$DIR"/node[0-9]*
    echo "$lifetime" >"$DIR/lifetime"
    echo "$nodes" >"$DIR/nodes"
    [ -z "$owner" ] || watchdog "$owner"
    local ports voters="" n cluster
    mapfile -t ports < <(free_ports $((2 * nodes)))
    for ((n = 1; n <= nodes; n++)); do
        voters+="${voters:+,}$n@127.0.0.1:${ports[$((2 * n - 1))]}"
    done
    for ((n = 1; n <= nodes; n++)); do
        write_config "$n" "$nodes" "$voters" "${ports[$((2 * n - 2))]}" "${ports[$((2 * n - 1))]}"
    done
    # a random id, base64url: it may start with '-', hence --cluster-id=ID in one word below
    cluster=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    local fmt_pids=()
    for ((n = 1; n <= nodes; n++)); do
        java_cmd "$n"
        timeout 120 "${JAVA_CMD[@]}" kafka.tools.StorageTool format --cluster-id="$cluster" \
            -c "$DIR/node$n/server.properties" >"$DIR/node$n/format.log" 2>&1 &
        fmt_pids+=($!)
    done
    for ((n = 1; n <= nodes; n++)); do
        wait "${fmt_pids[$((n - 1))]}" || {
            cat "$DIR/node$n/format.log" >&2
            cmd_stop
            die "could not format the storage of node $n"
        }
    done
    for ((n = 1; n <= nodes; n++)); do launch "$n"; done
    local all=()
    for ((n = 1; n <= nodes; n++)); do all+=("$n"); done
    (wait_ready "${all[@]}") || {
        cmd_stop --keep
        exit 1
    }
    local bootstrap=""
    for ((n = 1; n <= nodes; n++)); do
        bootstrap+="${bootstrap:+,}127.0.0.1:$(cat "$DIR/node$n/port")"
    done
    echo "$bootstrap" >"$DIR/bootstrap"
    echo "$bootstrap"
}

cmd_stop() {
    local keep=0
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) DIR=${2:?}; shift 2 ;;
        --keep) keep=1; shift ;;
        *) die "stop: unknown argument '$1'" ;;
        esac
    done
    [ -f "$DIR/nodes" ] || return 0
    local nodes n all=()
    nodes=$(cat "$DIR/nodes")
    for ((n = 1; n <= nodes; n++)); do all+=("$n"); done
    # a JVM writing the class-data archive at its exit takes longer to stop
    if [ "$CDS" = 1 ] && [ ! -s "$(cds_archive)" ] && [ "$STOP_TIMEOUT" -lt 90 ]; then
        STOP_TIMEOUT=90
    fi
    stop_nodes TERM "${all[@]}"
    keep_cds
    if [ -s "$DIR/watchdog" ]; then
        local w
        w=$(cat "$DIR/watchdog")
        [ "$w" = "$$" ] || kill "$w" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then
        rm -f "$DIR/nodes"
        echo "kafka.sh: logs kept in $DIR" >&2
    else
        rm -rf "$DIR"
    fi
}

# node_arg N: checks that N names a node of the cluster in DIR.
node_arg() {
    [ -f "$DIR/nodes" ] || die "no cluster in $DIR"
    case $1 in '' | *[!0-9]*) die "not a node number: '$1'" ;; esac
    [ "$1" -ge 1 ] && [ "$1" -le "$(cat "$DIR/nodes")" ] || die "no node $1 in $DIR"
}

cmd_kill_broker() {
    local n=${1:?usage: kafka.sh kill-broker N [--dir DIR] [--signal KILL|TERM]} sig=KILL
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) DIR=${2:?}; shift 2 ;;
        --signal) sig=${2:?}; shift 2 ;;
        *) die "kill-broker: unknown argument '$1'" ;;
        esac
    done
    node_arg "$n"
    stop_nodes "$sig" "$n"
}

cmd_start_broker() {
    local n=${1:?usage: kafka.sh start-broker N [--dir DIR]}
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) DIR=${2:?}; shift 2 ;;
        *) die "start-broker: unknown argument '$1'" ;;
        esac
    done
    node_arg "$n"
    running "$n" && die "node $n is running"
    need_java
    launch "$n"
    wait_ready "$n"
}

cmd_status() {
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) DIR=${2:?}; shift 2 ;;
        *) die "status: unknown argument '$1'" ;;
        esac
    done
    [ -f "$DIR/nodes" ] || die "no cluster in $DIR"
    local n nodes st=0
    nodes=$(cat "$DIR/nodes")
    for ((n = 1; n <= nodes; n++)); do
        if running "$n"; then
            echo "$n $(cat "$DIR/node$n/port") running"
        else
            echo "$n $(cat "$DIR/node$n/port") stopped"
            st=1
        fi
    done
    return $st
}

case ${1:-} in
fetch)
    shift
    [ $# = 0 ] || die "fetch takes no arguments"
    fetch
    echo "$CACHE"
    ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
kill-broker) shift; cmd_kill_broker "$@" ;;
start-broker) shift; cmd_start_broker "$@" ;;
status) shift; cmd_status "$@" ;;
*)
    sed -n '2,/^set -euo/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
