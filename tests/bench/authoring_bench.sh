#!/usr/bin/env bash
# Authoring-loop benchmark (README: Performance): how long a user waits for `streamrun validate`
# of one shipped example and for `streamrun test` of all of them — the commands an editor, a
# pre-commit hook and CI run on every change. Wall time per process (start to exit, everything
# included: loading the file, tables and model packages), the median of ROUNDS runs each, with
# the fastest and slowest run and the median CPU time (user + system) beside it.
#
#   tests/bench/authoring_bench.sh [STREAMRUN] [ROUNDS]      # defaults: build/streamrun, 21
#
# Targets: validate of each example under 20 ms, test of all the examples under 1 s. Prints one
# line per command and whether its target is met; exits 0 either way (a benchmark on a shared
# machine, not a test: run it several times and report the range).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/streamrun}
rounds=${2:-21}
[ -x "$bin" ] || { echo "$0: $bin is not an executable (cmake --build --preset release)" >&2; exit 2; }
case $(grep -s CMAKE_BUILD_TYPE: "$(dirname "$bin")/CMakeCache.txt" || true) in
*=Release) ;;
*) echo "$0: warning: $bin is not a release build; its times are not the ones the README reports" >&2 ;;
esac
export LC_ALL=C

timesfile=$(mktemp)
trap 'rm -f "$timesfile" "$timesfile.0" "$timesfile.1"' EXIT
# CPU time (user + system) of this shell's finished children so far, in microseconds, from the
# `times` builtin run in this shell (not in a $(...) subshell, whose children are its own)
children_cpu_us() {
    times >"$timesfile" # second line "0m0.012s 0m0.004s": user and system of the children
    awk 'NR == 2 { split($0, f, /[ms ]+/); printf "%d\n", ((f[1] + f[3]) * 60 + f[2] + f[4]) * 1e6 }' "$timesfile"
}

# "median min max cpu" of ROUNDS runs of the command given, in ms: wall time (median, min, max)
# and the median CPU time (user + system, which a busy machine changes less); stops on a failure
median_ms() {
    local t=() c=() i s e c0 c1
    for ((i = 0; i < rounds; i++)); do
        children_cpu_us >"$timesfile.0"
        s=$(date +%s%N)
        if ! "$@" >/dev/null 2>&1; then
            echo "$0: failed: $*" >&2
            "$@" >&2 || true
            exit 1
        fi
        e=$(date +%s%N)
        children_cpu_us >"$timesfile.1"
        c0=$(<"$timesfile.0") c1=$(<"$timesfile.1")
        t+=($((e - s)))
        c+=($((c1 - c0)))
    done
    local wall cpu
    wall=$(printf '%s\n' "${t[@]}" | sort -n | awk '{v[NR] = $1} END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f %.1f %.1f", m / 1e6, v[1] / 1e6, v[NR] / 1e6 }')
    cpu=$(printf '%s\n' "${c[@]}" | sort -n | awk '{v[NR] = $1} END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f", m / 1e3 }')
    echo "$wall $cpu"
}

examples=()
for f in pipelines/*.yaml; do
    case $f in *.tests.yaml) ;; *) examples+=("$f") ;; esac
done

echo "streamrun authoring benchmark: $bin, median of $rounds runs, wall time per process"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-45s %10s %8s %8s %9s  %s\n' command "wall: med" min max "CPU: med" "target (median wall time, ms)"
worst=0 missed=0
for f in "${examples[@]}"; do
    read -r med lo hi cpu < <(median_ms "$bin" validate "$f")
    if awk -v m="$med" 'BEGIN { exit !(m < 20) }'; then ok="< 20 ms: met"; else ok="< 20 ms: MISSED"; missed=$((missed + 1)); fi
    printf '%-45s %10s %8s %8s %9s  %s\n' "validate $f" "$med" "$lo" "$hi" "$cpu" "$ok"
done
read -r med lo hi cpu < <(median_ms "$bin" test "${examples[@]}")
if awk -v m="$med" 'BEGIN { exit !(m < 1000) }'; then ok="< 1 s: met"; else ok="< 1 s: MISSED"; missed=$((missed + 1)); fi
printf '%-45s %10s %8s %8s %9s  %s\n' "test pipelines/*.yaml (${#examples[@]} files)" "$med" "$lo" "$hi" "$cpu" "$ok"
ncases=$("$bin" test "${examples[@]}" 2>&1 | grep -c '^PASS' || true)
echo "($ncases test cases)"
if [ "$missed" -eq 0 ]; then echo "every target met"; else echo "$missed target(s) missed"; fi
