#!/usr/bin/env bash
# many_topics.sh STREAMRUN [N] — validate stays fast with many topics and deployments: N topics
# (default 50,000) and a chain of N-1 deployments, each reading one topic and writing the next.
# Topic and deployment lookups, duplicate checks and the cycle check were quadratic (80,000
# topics took 12 s, this file minutes); ctest's TIMEOUT catches a return to that. The same file
# closed into one long cycle must be refused, naming the cycle's start and end.
set -uo pipefail
bin=$(realpath "$1")
n=${2:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gen() { # gen LAST-OUTPUT
  awk -v n="$n" -v last="$1" 'BEGIN {
    print "topics:"
    for (i = 0; i < n; i++) print "  - t" i
    print "deployments:"
    for (i = 0; i + 1 < n; i++) print "  - {name: d" i ", input: t" i ", output: " (i + 2 < n ? "t" (i + 1) : last) "}"
  }'
}
fail=0
gen "t$((n - 1))" > "$work/chain.yaml"
start=$(date +%s.%N)
"$bin" validate "$work/chain.yaml" 2>"$work/err" || { echo "FAIL: the chain is not valid"; head "$work/err"; fail=1; }
echo "validate, $n topics and $((n - 1)) deployments: $(echo "$(date +%s.%N) - $start" | bc) s"
gen t0 > "$work/cycle.yaml"
"$bin" validate "$work/cycle.yaml" 2>"$work/err"
rc=$?
want="deployments form a cycle through topics: d0 -> t1 -> d1 -> t2 -> "
if [ "$rc" != 1 ] || ! grep -qF -- "$want" "$work/err" ||
  ! grep -qF -- "... ($((n - 21)) more) -> d$((n - 5)) -> t$((n - 4)) -> " "$work/err" ||
  ! grep -qF -- "d$((n - 2)) -> t0 -> d0 (deployment -> topic -> deployment)" "$work/err"; then
  echo "FAIL: exit $rc; the cycle is not reported as expected"
  head -c 2000 "$work/err"
  fail=1
fi
[ $fail = 0 ] && echo "ok"
exit $fail
