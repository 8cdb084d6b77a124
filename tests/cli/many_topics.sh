#!/usr/bin/env bash
# many_topics.sh STREAMRUN [N] — validate stays fast with many topics and deployments: N topics
# (default 50,000) and a chain of N-1 deployments, each reading one topic and writing the next;
# the same chain closed into one long cycle, refused with the cycle's start and end; N invalid
# topic names, each reported with its line. Topic and deployment lookups, duplicate checks and
# the cycle check were quadratic (80,000 topics took 44 s) and the cycle check recursed once per
# deployment of a chain (a crash at 50,000); finding whether an error was already reported at a
# place scanned every error, and quoting a line scanned the file; and a record through a chain of
# 20,000 deployments under test (it recursed once per deployment). Each command must take less
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
timed() { # timed COMMAND WHAT FILE: sets rc; stdout, stderr in $work/out, $work/err; fails
  # when it takes too long
  local cpu
  cpu=$( { TIMEFORMAT='%U %S'; time { "$bin" "$1" "$3" >"$work/out" 2>"$work/err"; echo $? >"$work/rc"; }; } 2>&1 )
  rc=$(cat "$work/rc")
  cpu=$(echo "$cpu" | awk '{ print $1 + $2 }')
  echo "$1, $2: $cpu s of CPU, exit $rc"
  if awk -v c="$cpu" -v m="$max_cpu" 'BEGIN { exit !(c > m) }'; then
    echo "FAIL: $1 of $2 took $cpu s of CPU (more than $max_cpu)"
    fail=1
  fi
}

gen "t$((n - 1))" > "$work/chain.yaml"
timed validate "$n topics and a chain of $((n - 1)) deployments" "$work/chain.yaml"
[ "$rc" = 0 ] || { echo "FAIL: the chain is not valid"; head -c 2000 "$work/err"; fail=1; }

gen t0 > "$work/cycle.yaml"
timed validate "the chain closed into a cycle" "$work/cycle.yaml"
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
timed validate "$n invalid topic names" "$work/bad.yaml"
if [ "$rc" != 1 ] || [ "$(grep -c "is not a valid topic name" "$work/err")" != "$n" ] ||
  ! grep -qF "$((n + 2)) errors in 1 of 1 file" "$work/err" ||
  ! grep -qF "$((n + 1)) |   - \"t!$((n - 1))\"" "$work/err"; then
  echo "FAIL: expected $n invalid names reported, each with its line"
  tail -c 1000 "$work/err"
  fail=1
fi
# a record through a chain of 20,000 deployments under `streamrun test` (run shares the walk): the
# in-process runner recursed once per deployment (a stack overflow), and test matched names and
# topics by scanning them all
m=20000
awk -v n="$m" 'BEGIN { print "topics:"; for (i = 0; i < n; i++) print "  - t" i; print "deployments:"
  for (i = 0; i + 1 < n; i++) print "  - {name: d" i ", input: t" i ", output: t" (i + 1) "}"
  print "tests:"; print "  - name: through every deployment"; print "    input: {t0: [{value: {a: 1}}]}"
  print "    expect:"; for (i = 1; i < n; i++) print "      t" i ": [{value: {a: 1}}]" }' > "$work/deep.yaml"
timed test "a record through $((m - 1)) deployments" "$work/deep.yaml"
if [ "$rc" != 0 ] || ! grep -qF "1 passed, 0 failed" "$work/out"; then
  echo "FAIL: the test case does not pass"
  tail -c 1000 "$work/out" "$work/err"
  fail=1
fi
[ $fail = 0 ] && echo "ok"
exit $fail
