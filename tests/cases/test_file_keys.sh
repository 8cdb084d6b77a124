#!/usr/bin/env bash
# test_file_keys.sh STREAMRUN — the top level of a NAME.tests.yaml: compare: and tolerance: apply
# to its cases (a wrong number within the file's tolerance passes, outside it fails), and a key
# that is not tests:, compare: or tolerance:, or a malformed value, is an error where it is,
# from `streamrun test` and `streamrun validate` alike.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
cat >t.yaml <<'YAML'
topics: [in, out]
deployments:
  - {name: third, input: in, pipeline: [{set: {third: x / 3}}], output: out}
YAML
ok=1
check() { # check WHAT WANT FILE: FILE holds WANT
  if ! grep -qF -- "$2" "$3"; then
    echo "FAIL: $1: not in the output: $2"
    cat "$3"
    ok=0
  fi
}
case_yaml='tests:
  - input: {in: [{key: k, value: {x: 1}}]}
    expect: {out: [{key: k, value: {third: 0.33}}]}'
printf 'compare: subset\ntolerance: 0.01\n%s\n' "$case_yaml" >t.tests.yaml
"$bin" test t.yaml >out 2>&1
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: within the file's tolerance, exit $rc"; cat out; ok=0; }
check "within the file's tolerance" "1 passed, 0 failed" out
printf 'compare: subset\ntolerance: 0.001\n%s\n' "$case_yaml" >t.tests.yaml
"$bin" test t.yaml >out 2>&1
[ $? = 1 ] || { echo "FAIL: outside the file's tolerance, wanted exit 1"; ok=0; }
check "outside the file's tolerance" "value differs at third: expected 0.33, got 0.3333333333333333 (tolerance 0.001)" out
printf 'compar: subset\ntolerance: {absolut: 1}\n%s\n' "$case_yaml" >t.tests.yaml
for cmd in test validate; do
  "$bin" $cmd t.yaml >out 2>&1
  [ $? = 1 ] || { echo "FAIL: $cmd of a malformed test file, wanted exit 1"; ok=0; }
  check "$cmd: unknown key" "t.tests.yaml:1:1: error[SR0101]: test file: unknown key 'compar'; did you mean 'compare'?" out
  check "$cmd: tolerance key" "t.tests.yaml:2:13: error[SR0101]: tolerance: unknown key 'absolut'; did you mean 'absolute'?" out
done
[ "$ok" = 1 ] && echo "ok: a test file's compare: and tolerance: apply, and its keys are checked"
[ "$ok" = 1 ]
