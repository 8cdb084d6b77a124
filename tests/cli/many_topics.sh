#!/usr/bin/env bash
# many_topics.sh STREAMRUN [N] — validate stays fast with many topics and deployments: N topics
# (default 50,000) and a chain of N-1 deployments, each reading one topic and writing the next;
# the same chain closed into one long cycle, refused with the cycle's start and end; N invalid
# topic names, each reported with its line. Topic and deployment lookups, duplicate checks and
# the cycle check were quadratic (80,000 topics took 44 s) and the cycle check recursed once per
# deployment of a chain (a crash at 50,000); finding whether an error was already reported at a
# place scanned every error, and quoting a line scanned the file. Each validate must take less
# than MAX_CPU seconds of CPU (default 30: about 1 s here, even with sanitizers; CPU time, so
# that a loaded machine does not fail it), and ctest's TIMEOUT bounds the whole.
set -uo pipefail
bin=$(realpath "$1")
n=${2:-50000}
max_cpu=${MAX_CPU:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
gen() { # gen LAST-OUTPUT
  awk -v n="$n" -v last="$1" 'BEGIN {
    print "topics:"
    for (i = 0; i < n; i++) print "  - t" i
    print "deployments:"
    for (i = 0; i + 1 < n; i++) print "  - {name: d" i ", input: t" i ", output: " (i + 2 < n ? "t" (i + 1) : last) "}"
  }'
}
validate() { # validate WHAT FILE: sets rc, stderr in $work/err; fails when it takes too long
  local cpu
  cpu=$( { TIMEFORMAT='%U %S'; time { "$bin" validate "$2" 2>"$work/err"; echo $? >"$work/rc"; }; } 2>&1 )
  rc=$(cat "$work/rc")
  cpu=$(echo "$cpu" | awk '{ print $1 + $2 }')
  echo "validate, $1: $cpu s of CPU, exit $rc"
  if awk -v c="$cpu" -v m="$max_cpu" 'BEGIN { exit !(c > m) }'; then
    echo "FAIL: validate of $1 took $cpu s of CPU (more than $max_cpu)"
    fail=1
  fi
}

gen "t$((n - 1))" > "$work/chain.yaml"
validate "$n topics and a chain of $((n - 1)) deployments" "$work/chain.yaml"
[ "$rc" = 0 ] || { echo "FAIL: the chain is not valid"; head -c 2000 "$work/err"; fail=1; }

gen t0 > "$work/cycle.yaml"
validate "the chain closed into a cycle" "$work/cycle.yaml"
if [ "$rc" != 1 ] ||
  ! grep -qF -- "deployments form a cycle through topics: d0 -> t1 -> d1 -> t2 -> " "$work/err" ||
  ! grep -qF -- "... ($((n - 21)) more) -> d$((n - 5)) -> t$((n - 4)) -> " "$work/err" ||
  ! grep -qF -- "d$((n - 2)) -> t0 -> d0 (deployment -> topic -> deployment)" "$work/err"; then
  echo "FAIL: the cycle is not reported as expected"
  head -c 2000 "$work/err"
  fail=1
fi

awk -v n="$n" 'BEGIN { print "topics:"; for (i = 0; i < n; i++) print "  - \"t!" i "\""
  print "deployments:"; print "  - {name: d, input: x, output: y}" }' > "$work/bad.yaml"
validate "$n invalid topic names" "$work/bad.yaml"
if [ "$rc" != 1 ] || [ "$(grep -c "is not a valid topic name" "$work/err")" != "$n" ] ||
  ! grep -qF "$((n + 2)) errors in 1 of 1 file" "$work/err" ||
  ! grep -qF "$((n + 1)) |   - \"t!$((n - 1))\"" "$work/err"; then
  echo "FAIL: expected $n invalid names reported, each with its line"
  tail -c 1000 "$work/err"
  fail=1
fi
[ $fail = 0 ] && echo "ok"
exit $fail
