#!/usr/bin/env bash
# Kafka benchmark: on one broker, over the same N input messages, (a) the I/O ceiling: a C
# librdkafka passthrough (consume → produce unchanged) tuned as far as we know how, (a') the
# same passthrough with streamrun's own client settings (like for like), (b) a plain Python
# confluent-kafka loop doing the phone normalisation, (c) `streamrun up` running
# pipelines/phone-normalization.yaml's data-normalization deployment at-least-once and, on Apache
# Kafka, (d) the same exactly-once; each output read back and verified.
#
# usage: tests/bench/kafka/run.sh [--broker embedded|apache] [N]
#   --broker embedded (default): one `streamrun broker` process (librdkafka's mock cluster);
#   --broker apache: a one-node Apache Kafka started by tests/kafka/apache/kafka.sh (Java and
#            Maven, or its cache; stopped at the end).
#   N input messages, default 200000.
# needs: build/streamrun (cmake --preset release && cmake --build --preset release), gcc,
#        librdkafka-dev, GNU time (apt-get install -y time), and for /usr/bin/python3 the Debian
#        package python3-confluent-kafka.
# env:   STREAMRUN (build/streamrun), PYTHON (/usr/bin/python3), INPUT (../shared/data/
#        demo_stream.json if present, else pipelines/data/phone-telemetry.jsonl), PARTITIONS (of
#        raw-data: 8, or on the embedded broker 16 for phone-telemetry.jsonl), KEYS (64 synthetic
#        device ids), PEER_TIMEOUT (300 s), PEERS (which to run, default "passthrough like
#        python streamrun eos"), ROUNDS (1: how many times each peer runs, in turns, each round
#        into its own output topics; the Python loop runs in the first only), WARMUP (1 on
#        Apache Kafka, 0 on the embedded broker: a round 0 of every peer but the Python loop,
#        listed but not counted, while the broker's JVM compiles its hot paths), KEEP=1 keeps the
#        work directory (logs, /usr/bin/time -v reports), STREAMRUN_KAFKA adds a `kafka:` map of
#        librdkafka properties to streamrun's deployment, e.g. '{queued.max.messages.kbytes:
#        1024}', STREAMRUN_ARGS more arguments for `streamrun up` (e.g. '--workers 1').
#
# msgs/s = N ÷ (first consumed message → all output delivered and the input offsets committed),
# timed inside each peer; for streamrun, from the seconds on its own summary line if it prints
# one, else its wall time. CPU s and peak RSS (MB) come from /usr/bin/time -v (the peer's process
# only); broker CPU is what the broker process used while the peer ran (/proc). Compare numbers
# only within one run: this machine's speed drifts.
# streamrun runs a copy of the pipeline whose topics declare the broker's partition counts
# (raw-data:PARTITIONS, table-data:8): `streamrun up` refuses a mismatch, the file says 4.
# With ROUNDS > 1 every run is listed, and the summary gives each peer's median and the median
# of the per-round ratios (peers of one round run back to back, so their ratio is the fairest).
# Exit status: 0 when every peer that ran had its output verified, 1 otherwise; the streamrun
# targets (>= 0.8 of the passthrough's msgs/s, <= 50 MB peak RSS, exactly-once <= 10 % slower
# than at-least-once) are reported, not enforced.
set -euo pipefail
cd "$(dirname "$0")/../../.."

broker_kind=embedded
while [ $# -gt 0 ]; do
    case $1 in
    --broker)
        [ $# -ge 2 ] || { echo "run.sh: --broker takes embedded or apache" >&2; exit 1; }
        broker_kind=$2
        shift 2
        ;;
    --broker=*)
        broker_kind=${1#--broker=}
        shift
        ;;
    -*)
        echo "run.sh: unknown option '$1'; usage: run.sh [--broker embedded|apache] [N]" >&2
        exit 1
        ;;
    *) break ;;
    esac
done
n=${1:-200000}
streamrun=${STREAMRUN:-build/streamrun}
python=${PYTHON:-/usr/bin/python3}
keys=${KEYS:-64}
peer_timeout=${PEER_TIMEOUT:-300}
peers_wanted=" ${PEERS:-passthrough like python streamrun eos} "
rounds=${ROUNDS:-1}
warmup=${WARMUP:-}
input=${INPUT:-}
if [ -z "$input" ]; then
    if [ -f ../shared/data/demo_stream.json ]; then input=../shared/data/demo_stream.json
    else input=pipelines/data/phone-telemetry.jsonl; fi
fi
# the generated sample's messages are larger (2.6 KB) and compress less than the tutorial's: 8
# partitions cannot hold 200,000 of them under the embedded broker's 5 MiB per partition cap
if [ "$input" = pipelines/data/phone-telemetry.jsonl ] && [ "$broker_kind" = embedded ]; then
    partitions=${PARTITIONS:-16}
else partitions=${PARTITIONS:-8}; fi
here=tests/bench/kafka

fail() {
    echo "run.sh: $*" >&2
    exit 1
}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || fail "N must be a positive integer, not '$n'"
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || fail "ROUNDS must be from 1 to 99, not '$rounds'"
if [ -z "$warmup" ]; then
    if [ "$broker_kind" = apache ]; then warmup=1; else warmup=0; fi
fi
[[ "$warmup" =~ ^[01]$ ]] || fail "WARMUP is 0 or 1, not '$warmup'"
case $broker_kind in embedded | apache) ;; *) fail "--broker takes embedded or apache, not '$broker_kind'" ;; esac
[ "$partitions" -ge 8 ] || fail "raw-data needs at least 8 partitions"
[ -x "$streamrun" ] ||
    fail "no $streamrun: build it first (cmake --preset release && cmake --build --preset release)"
[ -x /usr/bin/time ] || fail "no /usr/bin/time: apt-get install -y time"
command -v gcc >/dev/null || fail "no gcc"
"$python" -c 'import confluent_kafka' 2>/dev/null ||
    fail "$python cannot import confluent_kafka: apt-get install -y python3-confluent-kafka"
[ -f "$input" ] || fail "no input file $input"
kafka_sh=tests/kafka/apache/kafka.sh
[ "$broker_kind" = embedded ] || [ -x "$kafka_sh" ] || fail "no $kafka_sh for --broker apache"

# The passthroughs copy every input unchanged, uncompressed: the embedded broker keeps at most
# 5 MiB per partition of that and silently drops the oldest batches past it (one key's 3,125
# messages alone are more), so there their output is verified as far as it was kept: every record
# read back is one of the reference's, and those missing are exactly those the broker dropped (its
# low watermarks); the passthrough itself fails unless every message was acknowledged.
# round R's output topics are suffixed -rR (none for the first)
sfx() {
    [ "$1" = 1 ] || echo "-r$1"
}
topics=("raw-data:$partitions" out-python:8)
for ((r = 1 - warmup; r <= rounds; r++)); do
    x=$(sfx $r)
    topics+=("table-data$x:8" "errors$x:1" "out-passthrough$x:8" "out-like$x:8"
        "table-data-eos$x:8" "errors-eos$x:1")
done

work=$(mktemp -d)
broker_pid=
cleanup() {
    if [ "$broker_kind" = embedded ] && [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null
    then
        kill -TERM "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    if [ "$broker_kind" = apache ] && [ -d "$work/kafka" ]; then
        "$kafka_sh" stop --dir "$work/kafka" --keep >/dev/null 2>&1 || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for prog in load passthrough read; do
    gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -o "$work/$prog" "$here/$prog.c" \
        -lrdkafka || fail "cannot build $here/$prog.c (librdkafka-dev installed?)"
done

if [ "$broker_kind" = embedded ]; then
    targs=()
    for t in "${topics[@]}"; do targs+=(--topic "$t"); done
    "$streamrun" broker "${targs[@]}" --address-file "$work/addr" 2>"$work/broker.log" &
    broker_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/addr" ] && break
        if ! kill -0 "$broker_pid" 2>/dev/null; then
            cat "$work/broker.log" >&2
            fail "the broker did not start"
        fi
        sleep 0.1
    done
    [ -s "$work/addr" ] || fail "the broker wrote no address in 10 s"
    addr=$(head -1 "$work/addr")
    echo "broker: embedded (librdkafka mock cluster) at $addr (pid $broker_pid)"
else
    # large segments: the default test settings roll every MiB, thousands of files here
    addr=$("$kafka_sh" start --dir "$work/kafka" --owner $$ --set log.segment.bytes=268435456 \
        2>"$work/kafka.err") || {
        cat "$work/kafka.err" >&2
        fail "Apache Kafka did not start"
    }
    # the node runs under timeout: its pid file names timeout, whose child is the JVM
    broker_pid=$(pgrep -P "$(cat "$work/kafka/node1/pid")" | head -1 || true)
    "$python" - "$addr" "${topics[@]}" <<'EOF' || fail "cannot create the topics"
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
wanted = [NewTopic(t.split(":")[0], int(t.split(":")[1]), 1) for t in sys.argv[2:]]
for topic, fut in admin.create_topics(wanted, operation_timeout=30).items():
    fut.result()
EOF
    echo "broker: Apache Kafka $(basename "$(ls -d ~/.cache/streamrun/kafka-* 2>/dev/null |
        tail -1)" 2>/dev/null) at $addr (one KRaft node, pid $broker_pid)"
fi
echo "input: $n messages from $input, $keys keys, raw-data:$partitions"

"$work/load" "$addr" raw-data "$input" "$n" "$keys" ||
    fail "LOADING FAILED: the broker does not hold all $n inputs from offset 0; nothing measured"
if [ "$broker_kind" = apache ]; then
    # a fresh JVM runs its fetch path interpreted at first: read the input once before timing
    "$work/read" "$addr" raw-data 2>&1 >/dev/null | sed 's/^read /warm-up: read /'
fi
rows=$("$python" "$here/verify.py" count "$input" "$n")
echo "reference: $rows output rows expected from the normalisation"

declare -A rate cpu bcpu rss verified how kinds
peers=()

# broker_alive WHEN: fails loudly, with the broker's log and exit status, if it is gone.
broker_alive() {
    [ -z "$broker_pid" ] && return 0
    kill -0 "$broker_pid" 2>/dev/null && return 0
    local st=0
    if [ "$broker_kind" = embedded ]; then
        wait "$broker_pid" 2>/dev/null || st=$?
        sed 's/^/  broker: /' "$work/broker.log" >&2
    else
        tail -20 "$work/kafka/node1/broker.log" 2>/dev/null | sed 's/^/  broker: /' >&2
    fi
    broker_pid=
    if [ "$st" -gt 128 ]; then st="killed by signal $((st - 128))"; else st="exit status $st"; fi
    fail "THE BROKER DIED $1 ($st); the results above are not comparable"
}

# wanted NAME: true when PEERS asks for this peer
wanted() {
    [[ "$peers_wanted" == *" $1 "* ]]
}
round=1 # the round being run: peers are named NAME or, after the first, NAME#R

# broker_ticks: the CPU time the broker process has used so far, in clock ticks
broker_ticks() {
    awk '{print $14 + $15}' "/proc/$broker_pid/stat" 2>/dev/null || echo 0
}

# run_peer NAME CMD...: runs one peer under /usr/bin/time -v; sets $rc, fills cpu, rss and
# bcpu (the broker's CPU seconds meanwhile).
run_peer() {
    local name=$1 ticks
    shift
    peers+=("$name")
    kinds[${name%#*}]=1
    echo
    echo "== $name: $*"
    ticks=$(broker_ticks)
    set +e
    timeout "$peer_timeout" /usr/bin/time -v -o "$work/$name.time" "$@" \
        >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
    set -e
    bcpu[$name]=$(awk -v a="$ticks" -v b="$(broker_ticks)" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%.2f", (b - a) / hz}')
    cat "$work/$name.out"
    tail -5 "$work/$name.err" | sed 's/^/  stderr: /'
    [ "$rc" = 124 ] && echo "  TIMED OUT after $peer_timeout s"
    broker_alive "during $name"
    cpu[$name]=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' \
        "$work/$name.time" 2>/dev/null || echo "?")
    rss[$name]=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' \
        "$work/$name.time" 2>/dev/null || echo "?")
    verified[$name]=no
    rate[$name]="-"
}

# result_rate NAME: msgs/s from the peer's RESULT line.
result_rate() {
    sed -n 's/^RESULT .*msgs_per_s=\([0-9]*\).*/\1/p' "$work/$1.out" | tail -1
}

# check NAME TOPIC MODE: reads TOPIC back and compares it with the reference (for a passthrough
# on the embedded broker, less what the broker dropped: see above).
check() {
    local line dropped=0
    "$work/read" "$addr" "$2" >"$work/$1.records" 2>"$work/$1.read" || true
    if [ "$3" = passthrough ] && [ "$broker_kind" = embedded ]; then
        dropped=$(sed -n 's/.*low watermarks sum \([0-9]*\).*/\1/p' "$work/$1.read")
    fi
    line=$("$python" "$here/verify.py" "$3" "$input" "$n" "$keys" "${dropped:-0}" \
        <"$work/$1.records" 2>&1 | head -7) || true
    rm -f "$work/$1.records"
    sed 's/^/  /' "$work/$1.read"
    echo "$line" | sed 's/^/  /'
    case $line in "verify: OK"*) verified[$1]=yes ;; esac
}

group_suffix=$$-$(date +%s)
embedded_env=0
[ "$broker_kind" = embedded ] && embedded_env=1

# passthrough NAME TOPIC PROFILE: one run of passthrough.c
passthrough() {
    local name=$1 x
    x=$(sfx $round)
    [ "$round" = 1 ] || name=$1#$round
    EMBEDDED=$embedded_env run_peer "$name" "$work/passthrough" "$addr" raw-data "$2$x" "$n" \
        "bench-$1-$round-$group_suffix" "$3"
    if [ "$rc" = 0 ]; then rate[$name]=$(result_rate "$name"); fi
    how[$1]="timed inside the process, first consumed message → final flush and commit"
    check "$name" "$2$x" passthrough
}

# `streamrun up` refuses a topic whose partition count differs from the file's, and the file
# declares 4 for raw-data and table-data: run a copy whose topics match the broker's (its
# raw-replay source, unused here, pointed at the example data so that the copy validates), in a
# fresh consumer group, plus STREAMRUN_KAFKA as the deployment's `kafka:` map if given; for
# exactly-once, with `processing: exactly-once` and its own output and dead-letter topics.
pipeline=pipelines/phone-normalization.yaml
# make_copy OUT PROCESSING OUTPUT DEADLETTER GROUP
make_copy() {
    local extra=
    [ "$3" = table-data ] || extra="\\n  - {name: $3, partitions: 8}"
    [ "$4" = errors ] || extra="$extra\\n  - {name: $4, partitions: 1}"
    awk -v kafka="${STREAMRUN_KAFKA:-}" -v proc="$2" '{print}
        /^  - name: data-normalization$/ {
            if (kafka != "") print "    kafka: " kafka
            if (proc != "") print "    processing: " proc
        }' "$pipeline" |
        sed -e "s/{name: raw-data, partitions: [0-9]*}/{name: raw-data, partitions: $partitions}/" \
            -e "s/{name: table-data, partitions: [0-9]*}/{name: table-data, partitions: 8}/" \
            -e "s/{name: errors}/{name: errors, partitions: 1}$extra/" \
            -e "s/^\(    consumerGroup: \).*/\1$5/" \
            -e "s/^    output: table-data$/    output: $3/" \
            -e "s/^    deadLetter: errors$/    deadLetter: $4/" >"$1"
}

# streamrun_peer NAME PROCESSING OUTPUT DEADLETTER
streamrun_peer() {
    local name=$1 x summary secs copy
    x=$(sfx $round)
    [ "$round" = 1 ] || name=$1#$round
    copy=$work/phone-normalization-$1-$round.yaml
    make_copy "$copy" "$2" "$3$x" "$4$x" "bench-$1-$round-$group_suffix"
    if [ "$round" = 1 ]; then
        echo
        echo "streamrun runs a copy of $pipeline with these lines changed or added:"
        diff "$pipeline" "$copy" | sed -n 's/^> /  /p' || true
    fi
    TELEMETRY_FILE=$PWD/pipelines/data/phone-telemetry.jsonl \
        run_peer "$name" "$streamrun" up "$copy" --only data-normalization --exit-at-end \
        --broker "$addr" ${STREAMRUN_ARGS:-}
    if [ "$rc" != 0 ]; then
        echo "  FAILED: streamrun up exited with status $rc"
        return
    fi
    # its summary: the last line that gives a duration in seconds ("... 1.234 s ...")
    summary=$(cat "$work/$name.out" "$work/$name.err" |
        grep -E '(^|[^0-9.])[0-9]+(\.[0-9]+)? s([^a-z]|$)' | tail -1 || true)
    secs=$(echo "$summary" | grep -oE '[0-9]+(\.[0-9]+)? s([^a-z]|$)' | tail -1 |
        grep -oE '^[0-9.]+' || true)
    if [ -n "$secs" ] && awk -v s="$secs" 'BEGIN {exit !(s > 0)}'; then
        how[$1]="its summary line (first consumed message → final flush and commit)"
    else
        secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {
                   k = split($2, t, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + t[i]; print s
               }' "$work/$name.time")
        how[$1]="wall time of the process (includes start-up and group join)"
    fi
    rate[$name]=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
    check "$name" "$3$x" rows
    "$work/read" "$addr" "$4$x" 2>&1 >/dev/null | sed 's/^read /  dead-letter topic /'
}

eos_ok=no
if wanted eos; then
    if [ "$broker_kind" = embedded ]; then
        echo
        echo "== eos: not run: the embedded broker does not honour transactions (--broker apache)"
    elif ! make_copy "$work/eos-check.yaml" exactly-once table-data-eos errors-eos check ||
        ! TELEMETRY_FILE=$PWD/pipelines/data/phone-telemetry.jsonl \
            "$streamrun" validate "$work/eos-check.yaml" >/dev/null 2>&1; then
        echo
        echo "== eos: not run: this streamrun has no 'processing: exactly-once'"
    else
        eos_ok=yes
    fi
fi

for ((round = 1 - warmup; round <= rounds; round++)); do
    if [ "$round" = 0 ]; then
        echo
        echo "======== round 0: warm-up, not counted"
    elif [ "$rounds" -gt 1 ]; then
        echo
        echo "======== round $round of $rounds"
    fi
    # odd rounds run the peers in this order, even rounds in the reverse one: what runs first
    # pays for a broker still warming up (Apache Kafka's JIT) or still writing out the previous
    # peer's output
    order=(passthrough like python streamrun eos)
    [ $((round % 2)) = 1 ] || order=(eos streamrun python like passthrough)
    for peer in "${order[@]}"; do
        wanted "$peer" || continue
        case $peer in
        passthrough) passthrough passthrough out-passthrough fastest ;;
        like) passthrough like out-like streamrun ;;
        python)
            [ "$round" = 1 ] || continue
            run_peer python "$python" "$here/python_loop.py" "$addr" raw-data out-python "$n" \
                "bench-python-$group_suffix"
            if [ "$rc" = 0 ]; then rate[python]=$(result_rate python); fi
            how[python]="timed inside the process, first consumed message → all output delivered"
            check python out-python rows
            ;;
        streamrun) streamrun_peer streamrun "" table-data errors ;;
        eos) [ "$eos_ok" = no ] || streamrun_peer eos exactly-once table-data-eos errors-eos ;;
        esac
    done
done

echo
echo "== results: N = $n input messages on raw-data:$partitions, one $broker_kind broker" \
    "($rounds round$([ "$rounds" = 1 ] || echo s)$([ "$warmup" = 0 ] || echo ' after a warm-up round 0'))"
label() {
    case ${1%#*} in
    passthrough) echo "(a) C passthrough, fastest settings" ;;
    like) echo "(a') C passthrough, streamrun's settings" ;;
    python) echo "(b) Python confluent-kafka loop" ;;
    streamrun) echo "(c) streamrun up, at-least-once" ;;
    eos) echo "(d) streamrun up, exactly-once" ;;
    esac
}
status=0
printf '%-42s %5s %9s %7s %10s %8s %9s\n' peer round msgs/s "CPU s" "broker CPU" "RSS MB" verified
for p in "${peers[@]}"; do
    r=1
    [[ "$p" == *"#"* ]] && r=${p#*#}
    printf '%-42s %5s %9s %7s %10s %8s %9s\n' "$(label "$p")" "$r" "${rate[$p]}" "${cpu[$p]}" \
        "${bcpu[$p]}" "${rss[$p]}" "${verified[$p]}"
    [ "${verified[$p]}" = yes ] || status=1
done
for k in passthrough like python streamrun eos; do
    if [ -n "${kinds[$k]:-}" ]; then echo "timing of $k: ${how[$k]:-failed}"; fi
done

# name R: the peer K's name in round R
name() {
    if [ "$2" = 1 ]; then echo "$1"; else echo "$1#$2"; fi
}
# values K [ARRAY]: K's msgs/s (or cpu, bcpu, rss) over the rounds, one a line (those measured)
values() {
    local r v
    local -n a=${2:-rate}
    for ((r = 1; r <= rounds; r++)); do
        v=${a[$(name "$1" $r)]:-}
        [ -n "$v" ] && [ "$v" != "-" ] && [ "$v" != "?" ] && echo "$v"
    done
    return 0
}
# ratios A B: A's msgs/s over B's in each round where both were measured, one a line
ratios() {
    local r a b
    for ((r = 1; r <= rounds; r++)); do
        a=${rate[$(name "$1" $r)]:-}
        b=${rate[$(name "$2" $r)]:-}
        [ -n "$a" ] && [ "$a" != "-" ] && [ -n "$b" ] && [ "$b" != "-" ] &&
            awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f\n", a / b}'
    done
    return 0
}
median() {
    sort -g | awk '{v[NR] = $1} END {if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
if [ "$rounds" -gt 1 ]; then
    echo "medians over the rounds (peak RSS: the largest):"
    printf '%-42s %9s %7s %10s %8s   %s\n' peer msgs/s "CPU s" "broker CPU" "RSS MB" "msgs/s of each round"
    for k in passthrough like streamrun eos; do
        [ -n "${kinds[$k]:-}" ] || continue
        printf '%-42s %9.0f %7.2f %10.2f %8s   %s\n' "$(label "$k")" "$(values $k | median)" \
            "$(values $k cpu | median)" "$(values $k bcpu | median)" \
            "$(values $k rss | sort -g | tail -1)" "$(values $k | tr '\n' ' ')"
    done
fi
# report A B TEXT: TEXT, the median per-round ratio A/B and every ratio
report() {
    local m
    m=$(ratios "$1" "$2" | median)
    [ -n "$m" ] || return 0
    printf '%s: %.2f' "$3" "$m"
    [ "$rounds" = 1 ] || printf ' (median; per round: %s)' "$(ratios "$1" "$2" | tr '\n' ' ' |
        sed 's/ $//')"
    echo
    M=$m
}
M=
report streamrun passthrough "streamrun/passthrough msgs/s"
if [ -n "$M" ]; then
    peak=$(for ((r = 1; r <= rounds; r++)); do echo "${rss[$(name streamrun $r)]:-0}"; done |
        sort -g | tail -1)
    awk -v m="$M" -v r="$peak" 'BEGIN {
        printf "  target >= 0.80: %s\n", (m >= 0.8) ? "met" : "NOT met"
        printf "streamrun peak RSS: %s MB (target <= 50 MB: %s)\n", r, (r + 0 <= 50) ? "met" : "NOT met"
    }'
fi
report streamrun like "streamrun/passthrough with streamrun's settings"
M=
report eos streamrun "exactly-once/at-least-once msgs/s"
if [ -n "$M" ]; then
    awk -v m="$M" 'BEGIN {
        printf "  exactly-once is %.0f %% slower (target <= 10 %%: %s)\n", (1 - m) * 100,
               (1 - m <= 0.10) ? "met" : "NOT met"
    }'
fi
exit $status
