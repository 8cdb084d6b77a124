#!/usr/bin/env bash
# limits.sh STREAMRUN — no silent limits on the command line and in the in-process
# runner: each of these hit a fixed-size array that dropped (or refused with a misleading
# message) what did not fit. Prints "N passed, N failed".
source "$(dirname "$0")/lib.sh"
lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" = "$2" ] || { echo "  $1: not $2 lines"; return 1; }; }
cd "$work"

# validate and test take any number of files (the 257th was ignored: reported valid, not run)
printf 'topics: [in, out]\ndeployments:\n  - {name: d, input: in, output: out}\ntests:\n  - {name: ok, input: {in: [{value: 1}]}, expect: {out: [{value: 1}]}}\n' > good.yaml
printf 'topics: [in, out]\ndeployments:\n  - {name: d, input: in, output: out}\ntests:\n  - {name: wrong, input: {in: [{value: 1}]}, expect: {out: [{value: 2}]}}\n' > failing.yaml
printf 'topics: [in]\ndeployments:\n  - {name: d, input: nope, output: in}\n' > bad.yaml
files=(); for i in $(seq 300); do files+=(good.yaml); done
check "validate 301 files, the last invalid" expect_exit 1 "$bin" validate "${files[@]}" bad.yaml
check "validate reports the 301st" has_text stderr "1 error in 1 of 301 files"
check "test 301 files, the last failing" expect_exit 1 "$bin" test "${files[@]}" failing.yaml
check "test runs the 301st" has_text stdout "300 passed, 1 failed"

# run writes every topic it writes, however many (past 256 they were dropped)
{
  echo "topics:"; echo "  - in"; for i in $(seq 0 299); do echo "  - t$i"; done
  echo "deployments:"; echo "  - name: fan"; echo "    input: in"; echo "    output:"
  for i in $(seq 0 299); do echo "      - t$i"; done
} > fan.yaml
echo '{"a":1}' > one.jsonl
check "run with 300 outputs" expect_exit 0 "$bin" run fan.yaml --in in=one.jsonl --out o1
check "the 300th output is written" lines o1/t299.jsonl 1

# run and up take any number of --in and --only (the 65th was refused as an unknown option)
args=(); for i in $(seq 70); do args+=(--in in=one.jsonl --only d); done
check "run with 70 --in and --only" expect_exit 0 "$bin" run good.yaml "${args[@]}" --out o2
check "every --in is read" has_text stderr "d: 70 in (70 delivered, 0 filtered, 0 dead-lettered), 70 out"
args=(); for i in $(seq 70); do args+=(--only d); done
check "up with 71 --only" expect_exit 2 "$bin" up good.yaml "${args[@]}" --only nope
check "up reads the 71st --only" has_text stderr "no deployment named 'nope'"

# a test case's records keep every header (past 32 they were dropped), and so does a record
# passed from one deployment to the next (past 64), with `deployments:` naming any number of
# them (past 64 the rest did not run)
{
  echo "topics:"; for i in $(seq 0 70); do echo "  - t$i"; done
  echo "deployments:"
  for i in $(seq 0 69); do echo "  - {name: d$i, input: t$i, output: t$((i + 1))}"; done
  echo "tests:"
  echo "  - name: headers and deployments past the old limits"
  echo "    deployments: [$(seq -s, -f 'd%g' 0 69)]"
  echo "    input:"
  echo "      t0:"
  printf '        - value: {a: 1}\n          headers: {'
  for i in $(seq 0 69); do printf 'h%d: v%d, ' "$i" "$i"; done
  printf 'last: z}\n'
  echo "    expect:"
  for i in $(seq 1 69); do echo "      t$i: [{value: {a: 1}}]"; done
  echo "      t70:"
  echo "        - {value: {a: 1}, headers: {h0: v0, h40: v40, h69: v69, last: z}}"
} > chain.yaml
check "test with 71 headers through 70 deployments" expect_exit 0 "$bin" test chain.yaml
check "the headers arrive" has_text stdout "1 passed, 0 failed"

# an unknown topic is matched against every topic for a suggestion (not only the first 256)
{ cat fan.yaml; printf 'tests:\n  - {name: typo, input: {in: [{value: 1}]}, expect: {t299x: []}}\n'; } > typo.yaml
check "a typo in a test case" expect_exit 1 "$bin" validate typo.yaml
check "suggests a topic past the 256th" has_text stderr "unknown topic 't299x'; did you mean 't299'?"

# a header name holding NUL cannot be carried by Kafka clients: refused, not cut at the NUL
printf '{"value":{"a":1},"headers":{"x\\u0000y":"v"}}\n' > nul.jsonl
check "run: header name with NUL" expect_exit 2 "$bin" run good.yaml --in in=nul.jsonl --envelope --out o3
check "run: says why" has_text stderr 'nul.jsonl:1: error: header name "x\u0000..." holds a NUL character'
printf 'topics: [in, out]\ndeployments:\n  - {name: d, input: in, output: out}\ntests:\n  - name: nul\n    input: {in: [{value: 1, headers: {"x\\0y": v}}]}\n    expect: {out: [{value: 1, headers: {"x\\0z": v}}]}\n' > nul.yaml
check "test: header name with NUL" expect_exit 1 "$bin" test nul.yaml
check "test: says where and why" has_text stderr "nul.yaml:6:39: error[SR0801]: header name 'x\\0...' holds a NUL character"

# the embedded broker takes any number of --topic (the 257th was a usage error): here the first
# of 301 is invalid, which is reported once all are read (creating 300 topics on the embedded
# broker would take a minute)
args=(--topic :0); for i in $(seq 0 299); do args+=(--topic "t$i:1"); done
check "broker with 301 --topic" expect_exit 2 "$bin" broker "${args[@]}"
check "broker reads them all" has_text stderr "--topic takes NAME:PARTITIONS, not ':0'"

finish
