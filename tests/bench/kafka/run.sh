#!/usr/bin/env bash
# Kafka benchmark: on one embedded broker, over the same N input messages, (a) a C librdkafka
# passthrough (consume → produce unchanged: the I/O ceiling), (b) a plain Python confluent-kafka
# loop doing the phone normalisation and (c) `streamrun up` running
# pipelines/phone-normalization.yaml's data-normalization deployment; each output verified.
#
# usage: tests/bench/kafka/run.sh [N]            (N input messages, default 200000)
# needs: build/streamrun (cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build),
#        gcc, librdkafka-dev, GNU time (apt-get install -y time), and for /usr/bin/python3 the
#        Debian package python3-confluent-kafka.
# env:   STREAMRUN (build/streamrun), PYTHON (/usr/bin/python3), INPUT (../shared/data/
#        demo_stream.json if present, else pipelines/data/phone-telemetry.jsonl), PARTITIONS (of
#        raw-data: 8, or 16 for phone-telemetry.jsonl), KEYS (64 synthetic device ids),
#        PEER_TIMEOUT (300 s), KEEP=1 keeps the work directory (logs, /usr/bin/time -v
#        reports), STREAMRUN_KAFKA adds a `kafka:` map of
#        librdkafka properties to streamrun's deployment, e.g. '{queued.max.messages.kbytes: 1024}'.
#
# msgs/s = N ÷ (first consumed message → all output delivered), timed inside each peer; for
# streamrun, from the seconds on its own summary line if it prints one, else its wall time.
# CPU s and peak RSS come from /usr/bin/time -v. Compare numbers only within one run.
# streamrun runs a copy of the pipeline whose topics declare the broker's partition counts
# (raw-data:PARTITIONS, table-data:8): `streamrun up` refuses a mismatch, the file says 4.
# Exit status: 0 when every peer that ran had its output verified, 1 otherwise; the streamrun
# targets (>= 0.8 of the passthrough's msgs/s, <= 50 MB peak RSS) are reported, not enforced.
set -euo pipefail
cd "$(dirname "$0")/../../.."

n=${1:-200000}
streamrun=${STREAMRUN:-build/streamrun}
python=${PYTHON:-/usr/bin/python3}
keys=${KEYS:-64}
peer_timeout=${PEER_TIMEOUT:-300}
input=${INPUT:-}
if [ -z "$input" ]; then
    if [ -f ../shared/data/demo_stream.json ]; then input=../shared/data/demo_stream.json
    else input=pipelines/data/phone-telemetry.jsonl; fi
fi
# the generated sample's messages are larger (2.6 KB) and compress less than the tutorial's: 8
# partitions cannot hold 200,000 of them under the embedded broker's 5 MiB per partition cap
if [ "$input" = pipelines/data/phone-telemetry.jsonl ]; then partitions=${PARTITIONS:-16}
else partitions=${PARTITIONS:-8}; fi
here=tests/bench/kafka

fail() {
    echo "run.sh: $*" >&2
    exit 1
}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || fail "N must be a positive integer, not '$n'"
[ "$partitions" -ge 8 ] || fail "raw-data needs at least 8 partitions"
[ -x "$streamrun" ] ||
    fail "no $streamrun: build it first (cmake -S . -B build && cmake --build build -j2)"
[ -x /usr/bin/time ] || fail "no /usr/bin/time: apt-get install -y time"
command -v gcc >/dev/null || fail "no gcc"
"$python" -c 'import confluent_kafka' 2>/dev/null ||
    fail "$python cannot import confluent_kafka: apt-get install -y python3-confluent-kafka"
[ -f "$input" ] || fail "no input file $input"

work=$(mktemp -d)
broker_pid=
cleanup() {
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
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

"$streamrun" broker --topic "raw-data:$partitions" --topic table-data:8 --topic errors:1 \
    --topic out-passthrough:8 --topic out-python:8 --address-file "$work/addr" \
    2>"$work/broker.log" &
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
echo "broker: $addr (pid $broker_pid); input: $n messages from $input, $keys keys"

"$work/load" "$addr" raw-data "$input" "$n" "$keys" ||
    fail "LOADING FAILED: the broker does not hold all $n inputs from offset 0; nothing measured"
rows=$("$python" "$here/verify.py" count "$input" "$n")
echo "reference: $rows output rows expected from the normalisation"

declare -A rate cpu rss verified how
peers=()

# broker_alive WHEN: fails loudly, with the broker's log and exit status, if it is gone.
broker_alive() {
    kill -0 "$broker_pid" 2>/dev/null && return 0
    local st=0
    wait "$broker_pid" 2>/dev/null || st=$?
    broker_pid=
    sed 's/^/  broker: /' "$work/broker.log" >&2
    if [ "$st" -gt 128 ]; then st="killed by signal $((st - 128))"; else st="exit status $st"; fi
    fail "THE BROKER DIED $1 ($st); the results above are not comparable"
}

# run_peer NAME CMD...: runs one peer under /usr/bin/time -v; sets $rc, fills cpu and rss.
run_peer() {
    local name=$1
    shift
    peers+=("$name")
    echo
    echo "== $name: $*"
    set +e
    timeout "$peer_timeout" /usr/bin/time -v -o "$work/$name.time" "$@" \
        >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
    set -e
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

# check NAME TOPIC MODE: reads TOPIC back and compares it with the reference.
check() {
    local line
    line=$("$work/read" "$addr" "$2" 2>"$work/$1.read" |
        "$python" "$here/verify.py" "$3" "$input" "$n" "$keys" 2>&1 | head -7) || true
    sed 's/^/  /' "$work/$1.read"
    echo "$line" | sed 's/^/  /'
    case $line in "verify: OK"*) verified[$1]=yes ;; esac
}

group_suffix=$$-$(date +%s)

run_peer passthrough "$work/passthrough" "$addr" raw-data out-passthrough "$n" \
    "bench-passthrough-$group_suffix"
if [ "$rc" = 0 ]; then rate[passthrough]=$(result_rate passthrough); fi
how[passthrough]="timed inside the process, first consumed message → all output delivered"
check passthrough out-passthrough passthrough

run_peer python "$python" "$here/python_loop.py" "$addr" raw-data out-python "$n" \
    "bench-python-$group_suffix"
if [ "$rc" = 0 ]; then rate[python]=$(result_rate python); fi
how[python]="timed inside the process, first consumed message → all output delivered"
check python out-python rows

# `streamrun up` refuses a topic whose partition count differs from the file's, and the file
# declares 4 for raw-data and table-data: run a copy whose topics match the broker's (its
# raw-replay source, unused here, pointed at the example data so that the copy validates), plus
# STREAMRUN_KAFKA as the deployment's `kafka:` map if given.
pipeline=pipelines/phone-normalization.yaml
awk -v kafka="${STREAMRUN_KAFKA:-}" '{print}
    kafka != "" && /^  - name: data-normalization$/ {print "    kafka: " kafka}' "$pipeline" |
    sed -e "s/{name: raw-data, partitions: [0-9]*}/{name: raw-data, partitions: $partitions}/" \
        -e "s/{name: table-data, partitions: [0-9]*}/{name: table-data, partitions: 8}/" \
        >"$work/phone-normalization.yaml"
echo
echo "streamrun runs a copy of $pipeline with these lines changed or added:"
diff "$pipeline" "$work/phone-normalization.yaml" | sed -n 's/^> /  /p' || true
TELEMETRY_FILE=$PWD/pipelines/data/phone-telemetry.jsonl \
    run_peer streamrun "$streamrun" up "$work/phone-normalization.yaml" \
    --only data-normalization --exit-at-end --broker "$addr"
summary=
if grep -q "unknown command" "$work/streamrun.err" "$work/streamrun.out"; then
    echo "  SKIPPED: this streamrun has no 'up' command yet"
    unset 'peers[2]'
elif [ "$rc" != 0 ]; then
    echo "  FAILED: streamrun up exited with status $rc"
    how[streamrun]="failed"
else
    # its summary: the last line that gives a duration in seconds ("... 1.234 s ...")
    summary=$(cat "$work/streamrun.out" "$work/streamrun.err" |
        grep -E '(^|[^0-9.])[0-9]+(\.[0-9]+)? s([^a-z]|$)' | tail -1 || true)
    secs=$(echo "$summary" | grep -oE '[0-9]+(\.[0-9]+)? s([^a-z]|$)' | tail -1 |
        grep -oE '^[0-9.]+' || true)
    if [ -n "$secs" ] && awk -v s="$secs" 'BEGIN {exit !(s > 0)}'; then
        how[streamrun]="its summary: $secs s"
    else
        secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {
                   k = split($2, t, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + t[i]; print s
               }' "$work/streamrun.time")
        how[streamrun]="wall time of the process (includes start-up and group join): $secs s"
    fi
    rate[streamrun]=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
    check streamrun table-data rows
    "$work/read" "$addr" errors 2>&1 >/dev/null | sed 's/^read /  dead-letter topic /'
fi

echo
echo "== results: N = $n input messages on raw-data:$partitions, one broker"
printf '%-34s %10s %8s %13s %9s\n' peer msgs/s "CPU s" "peak RSS MB" verified
label() {
    case $1 in
    passthrough) echo "(a) C librdkafka passthrough" ;;
    python) echo "(b) Python confluent-kafka loop" ;;
    streamrun) echo "(c) streamrun up" ;;
    esac
}
status=0
for p in "${peers[@]}"; do
    printf '%-34s %10s %8s %13s %9s\n' "$(label "$p")" "${rate[$p]}" "${cpu[$p]}" "${rss[$p]}" \
        "${verified[$p]}"
    [ "${verified[$p]}" = yes ] || status=1
done
for p in "${peers[@]}"; do echo "timing of $p: ${how[$p]}"; done
[ -n "$summary" ] && echo "streamrun's summary line: $summary"
if [ -n "${rate[streamrun]:-}" ] && [ "${rate[streamrun]}" != "-" ] &&
    [ "${rate[passthrough]}" != "-" ]; then
    awk -v s="${rate[streamrun]}" -v p="${rate[passthrough]}" -v r="${rss[streamrun]}" 'BEGIN {
        ratio = s / p
        fast = (ratio >= 0.8) ? "met" : "NOT met"
        small = (r + 0 <= 50) ? "met" : "NOT met"
        printf "streamrun/passthrough msgs/s: %.2f (target >= 0.80: %s)\n", ratio, fast
        printf "streamrun peak RSS: %s MB (target <= 50 MB: %s)\n", r, small
    }'
elif [[ " ${peers[*]} " != *" streamrun "* ]]; then
    echo "streamrun/passthrough: not measured (streamrun up skipped)"
fi
exit $status
