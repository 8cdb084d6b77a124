#!/usr/bin/env bash
# run_package_errors.sh — `streamrun score` on every broken package tests/model/errors/NNN-name/
# (scoring no records) must print exactly NNN-name.expected: "# exit N", then the stderr.
#
#   bash tests/model/run_package_errors.sh build/streamrun
#   STREAMRUN_REGENERATE=1 bash tests/model/run_package_errors.sh build/streamrun  # rewrite them
set -u
[ $# -eq 1 ] || { echo "usage: $0 PATH/TO/streamrun" >&2; exit 2; }
bin=$(realpath "$1")
# diagnostics quote the paths as given: run from the repository root
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
export LC_ALL=C
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pkg in tests/model/errors/*/; do
    pkg=${pkg%/}
    name=$(basename "$pkg")
    expected=tests/model/errors/$name.expected
    "$bin" score "$pkg" --in /dev/null 2>"$tmp/stderr" >/dev/null
    { printf '# exit %d\n' "$?"; cat "$tmp/stderr"; } >"$tmp/actual"
    if grep -qE 'Sanitizer|runtime error:' "$tmp/actual"; then
        echo "FAIL $name: sanitizer report"; cat "$tmp/actual"; fail=$((fail + 1)); continue
    fi
    if [ "${STREAMRUN_REGENERATE:-0}" = 1 ]; then
        cmp -s "$tmp/actual" "$expected" || { cp "$tmp/actual" "$expected"; echo "REGENERATED $name"; }
        pass=$((pass + 1))
    elif cmp -s "$expected" "$tmp/actual"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        diff -u --label "$expected" --label actual "$expected" "$tmp/actual"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $pass -gt 0 ] && [ $fail -eq 0 ]
