#!/usr/bin/env bash
# check_failing.sh STREAMRUN FILE — FILE's test cases must fail: `streamrun test FILE` exits 1 and
# prints every line given in FILE as a `# expect-output: TEXT` comment (TEXT found verbatim).
# Runs from the source root so the paths printed are tests/cases/failing/NAME.yaml.
set -uo pipefail
bin=$(realpath "$1")
file=$(realpath "$2")
cd "$(dirname "$0")/../../.."
rel=${file#"$PWD"/}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" test "$rel" >"$out" 2>&1
rc=$?
ok=1
if [ "$rc" != 1 ]; then
  echo "FAIL: streamrun test $rel exited $rc, wanted 1"
  ok=0
fi
n=0
while IFS= read -r want; do
  n=$((n + 1))
  if ! grep -qF -- "$want" "$out"; then
    echo "FAIL: not in the output: $want"
    ok=0
  fi
done < <(sed -n 's/^# expect-output: //p' "$file")
if [ "$n" = 0 ]; then
  echo "FAIL: $rel has no '# expect-output:' lines"
  ok=0
fi
if [ "$ok" = 0 ]; then
  echo "--- output of streamrun test $rel:"
  cat "$out"
  exit 1
fi
echo "ok: $rel fails as expected ($n lines checked)"
