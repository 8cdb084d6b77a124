#!/usr/bin/env bash
# The command line as CI uses it: the README's CI lines pass on a copy of pipelines/; NAME.tests.yaml
# arguments stand for the tests of NAME.yaml (validated, run once); --name=value options; a
# directory argument is a usage error; a write error on standard output names it; `validate -`
# reads standard input. Prints "N passed, N failed".
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
lacks() { ! grep -q -- "$2" "$1" || { echo "  '$2' in $1:"; cat "$1"; return 1; }; }

# the README's CI block, run as written (with streamrun on PATH) over a copy of the examples
mkdir -p "$work/bin" "$work/repo"
ln -s "$bin" "$work/bin/streamrun"
cp -r pipelines "$work/repo/"
awk '/^\*\*In CI\*\*/ {on = 1} on && /^```sh/ {inb = 1; next} inb && /^```/ {exit} inb' README.md > "$work/ci.sh"
check "README has CI lines" test "$(grep -c '^streamrun ' "$work/ci.sh")" -ge 2
check "README CI: validate the examples" grep -q '^streamrun validate pipelines/\*\.yaml$' "$work/ci.sh"
check "README CI: test the examples" grep -q '^streamrun test pipelines/\*\.yaml$' "$work/ci.sh"
while IFS= read -r line; do
  check "README CI line: $line" expect_exit 0 env PATH="$work/bin:$PATH" bash -c "cd '$work/repo' && set -e && $line"
done < <(grep '^streamrun ' "$work/ci.sh")
check "README CI json parses" /usr/bin/python3 -c "import json; assert json.load(open('$work/repo/validate.json')) == []"

# validate: topologies and tests files together, each topology once
ntopo=$(ls pipelines/*.yaml | grep -vc '\.tests\.yaml$')
nall=$(ls pipelines/*.yaml | wc -l)
check "validate all examples" expect_exit 0 "$bin" validate pipelines/*.yaml
check "validate counts every argument" has_text "$work/stderr" "$nall files valid"
check "validate a tests file alone" expect_exit 0 "$bin" validate pipelines/tweets.tests.yaml
check "... is one valid file" has_text "$work/stderr" "1 file valid"

# a mistake in a tests file is reported there, whether it is given alone or with its topology
T=$work/repo/pipelines
sed 's/^      raw-data:/      raw-dta:/' pipelines/phone-normalization.tests.yaml > "$T/phone-normalization.tests.yaml"
check "tests file with an unknown topic" expect_exit 1 "$bin" validate "$T/phone-normalization.tests.yaml"
check "... at its place" has "$work/stderr" "phone-normalization.tests.yaml:6:7: error\[SR0201\]: unknown topic 'raw-dta'; did you mean 'raw-data'?"
n1=$(grep -c "error\[SR0201\]: unknown topic 'raw-dta'" "$work/stderr")
check "tests file and its topology" expect_exit 1 "$bin" validate "$T/phone-normalization.tests.yaml" "$T/phone-normalization.yaml"
check "... reported once" test "$(grep -c "error\[SR0201\]: unknown topic 'raw-dta'" "$work/stderr")" = "$n1"
check "... one file of two bad" has_text "$work/stderr" "in 1 of 2 files"
sed 's/deployments: \[tumbling-mean\]/deployments: [tumbling-maen]/' pipelines/phone-windows.tests.yaml > "$T/phone-windows.tests.yaml"
check "tests file with an unknown deployment" expect_exit 1 "$bin" validate "$T/phone-windows.tests.yaml"
check "... named" has "$work/stderr" "phone-windows.tests.yaml:28:[0-9]*: error\[SR0217\]: .*tumbling-maen"
cp pipelines/phone-normalization.tests.yaml "$T/orphan.tests.yaml"
check "tests file without its topology" expect_exit 1 "$bin" validate "$T/orphan.tests.yaml"
check "... says which" has_text "$work/stderr" "orphan.tests.yaml:3:1: error[SR0990]: no topology '$T/orphan.yaml' for these tests"
# a NAME.tests.yaml that is a topology itself is validated (and tested) as one
printf 'topics: [a, b]\ndeployments:\n  - {name: x, input: a, output: b}\ntests:\n  - name: passes\n    input: {a: [{value: {n: 1}}]}\n    expect: {b: [{value: {n: 1}}]}\n' > "$work/self.tests.yaml"
check "a topology named .tests.yaml" expect_exit 0 "$bin" validate "$work/self.tests.yaml"
check "... its own tests" expect_exit 0 "$bin" test "$work/self.tests.yaml"
check "... ran" has_text "$work/stdout" "1 passed, 0 failed"

# test: a tests file runs its topology's tests; with its topology, once
"$bin" test pipelines/tweets.yaml > "$work/alone.out" 2>&1
check "test a tests file" expect_exit 0 "$bin" test pipelines/tweets.tests.yaml
check "... runs the topology's tests" test "$(tail -1 "$work/stdout")" = "$(tail -1 "$work/alone.out")"
check "test a topology and its tests file" expect_exit 0 "$bin" test pipelines/tweets.yaml pipelines/tweets.tests.yaml
check "... runs them once" test "$(tail -1 "$work/stdout")" = "$(tail -1 "$work/alone.out")"
check "test a tests file, then its topology" expect_exit 0 "$bin" test pipelines/tweets.tests.yaml pipelines/tweets.yaml
check "... runs them once" test "$(tail -1 "$work/stdout")" = "$(tail -1 "$work/alone.out")"
check "test a tests file twice" expect_exit 0 "$bin" test pipelines/tweets.tests.yaml pipelines/tweets.tests.yaml
check "... runs them once" test "$(tail -1 "$work/stdout")" = "$(tail -1 "$work/alone.out")"
cases=0
for f in pipelines/*.tests.yaml; do cases=$((cases + $(grep -c '^  - name:' "$f"))); done
check "test all examples" expect_exit 0 "$bin" test pipelines/*.yaml
check "... every case once" has_text "$work/stdout" "$cases passed, 0 failed"

# --name=value, in every command that takes a value
P=pipelines/phone-normalization.yaml
check "validate --format=json" expect_exit 0 "$bin" validate --format=json $P
check "... prints JSON" test "$(cat "$work/stdout")" = "[]"
check "validate --format=yaml" expect_exit 2 "$bin" validate --format=yaml $P
check "... says what it takes" has_text "$work/stderr" "--format must be text or json, not 'yaml'"
check "validate --format with no value" expect_exit 2 "$bin" validate $P --format
check "graph --format=mermaid" expect_exit 0 "$bin" graph $P --format=mermaid
check "... is mermaid" has "$work/stdout" "^flowchart"
printf '{"deviceId":"d1","payload":[]}\n' > "$work/in.jsonl"
check "run --in=T=P --out=D --only=N --state-memory=S" expect_exit 0 "$bin" run $P --only=data-normalization --in=raw-data="$work/in.jsonl" --out="$work/o" --state-memory=1MiB
check "... read and wrote" has_text "$work/stderr" "data-normalization: 1 in"
check "test --state-memory=S" expect_exit 0 "$bin" test --state-memory=1MiB pipelines/tweets.yaml
check "test --state-memory=bad" expect_exit 2 "$bin" test --state-memory=lots pipelines/tweets.yaml
check "score --in=F" expect_exit 0 "$bin" score tests/model/packages/alert --in=/dev/null
check "up --workers=0 is checked" expect_exit 2 "$bin" up $P --workers=0
check "... as --workers 0" has_text "$work/stderr" "--workers takes a number from 1 to 16"
check "broker --brokers=99 is checked" expect_exit 2 "$bin" broker --brokers=99
check "... as --brokers 99" has_text "$work/stderr" "--brokers must be from 1 to 16"

# a directory argument is a usage error
check "validate a directory" expect_exit 2 "$bin" validate pipelines
check "... says so, and what to write" has_text "$work/stderr" "streamrun validate: pipelines is a directory; expected a topology file (for all the topologies in it: pipelines/*.yaml)"
check "test a directory" expect_exit 2 "$bin" test pipelines/
check "... says so" has_text "$work/stderr" "streamrun test: pipelines/ is a directory; expected a topology file (for all the topologies in it: pipelines/*.yaml)"

check "compat --broker=HOST:PORT" expect_exit 2 timeout 60 "$bin" compat tests/compat/base.yaml --broker=127.0.0.1:1
check "... is the broker" has_text "$work/stderr" "streamrun compat: cannot reach the Kafka cluster at 127.0.0.1:1"
check "compat --format=json" expect_exit 0 "$bin" compat --format=json $P $P
check "compat a directory" expect_exit 2 "$bin" compat pipelines $P
check "... says so" has_text "$work/stderr" "streamrun compat: pipelines is a directory; expected a topology file"
check "lsp is a command" expect_exit 2 "$bin" lps
check "... suggested" has_text "$work/stderr" "did you mean 'lsp'"
for cmd in run graph up broker; do
  check "$cmd a directory" expect_exit 2 "$bin" $cmd pipelines
  check "... says so" has_text "$work/stderr" "streamrun $cmd: pipelines is a directory; expected a topology file"
done

# a write error on standard output is an I/O error naming it
if [ -w /dev/full ]; then
  check "validate --format json > /dev/full" expect_exit 2 bash -c "'$bin' validate --format json $P > /dev/full"
  check "... names the output" has_text "$work/stderr" "streamrun validate: error writing the output to standard output (/dev/full): No space left on device"
  check "test > /dev/full" expect_exit 2 bash -c "'$bin' test pipelines/tweets.yaml > /dev/full"
  check "... names the output" has_text "$work/stderr" "streamrun test: error writing the output to standard output (/dev/full)"
fi

# validate - reads standard input; relative paths from the current directory
check "validate - (valid)" expect_exit 0 bash -c "cd pipelines && '$bin' validate - < covid-cases.yaml"
check "... one file valid" has_text "$work/stderr" "1 file valid"
check "validate - (relative paths from here)" expect_exit 1 bash -c "'$bin' validate - < pipelines/covid-cases.yaml"
check "... looked for here" has_text "$work/stderr" "<stdin>:"
check "... the source from ." has "$work/stderr" "looked for \./data/"
printf 'topics: [a]\ndeployments:\n  - {name: x, input: b, output: a}\n' > "$work/bad.yaml"
check "validate - (invalid)" expect_exit 1 bash -c "'$bin' validate - < '$work/bad.yaml'"
check "... names <stdin>" has_text "$work/stderr" "<stdin>:3:22: error[SR0201]: unknown topic 'b'; did you mean 'a'?"
check "validate - --format json" expect_exit 1 bash -c "'$bin' validate --format=json - < '$work/bad.yaml'"
check "... file is <stdin>" /usr/bin/python3 -c "import json; d=json.load(open('$work/stdout')); assert d and all(e['file']=='<stdin>' for e in d), d"

finish
