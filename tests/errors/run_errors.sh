#!/usr/bin/env bash
# run_errors.sh — runs `streamrun validate` on every tests/errors/*.yaml and compares the exit
# code and stderr with the .expected file beside it: "# exit N" on the first line, then the
# exact stderr. It runs them from the repository root, since diagnostics quote paths as given.
#
#   bash tests/errors/run_errors.sh build/streamrun
#   STREAMRUN_REGENERATE=1 bash tests/errors/run_errors.sh build/streamrun   # rewrite .expected

set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 PATH/TO/streamrun" >&2
    exit 2
fi
bin=$1
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
if [ ! -x "$bin" ]; then
    echo "$0: $bin is not an executable" >&2
    exit 2
fi

# diagnostics quote the path as given: run from the repository root with relative paths
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
dir=tests/errors

# The cases must not depend on the caller's environment: variables a case refers to are unset,
# and messages are not coloured (stderr is a pipe) nor translated.
unset STREAMRUN_ERRORS_UNSET
export LC_ALL=C
# Sanitizer reports go to stderr, where any of them makes the comparison fail.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

regen=${STREAMRUN_REGENERATE:-0}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
cases=("$dir"/*.yaml)
if [ ${#cases[@]} -eq 0 ]; then
    echo "$0: no cases in $dir" >&2
    exit 2
fi

for yaml in "${cases[@]}"; do
    name=$(basename "$yaml" .yaml)
    expected=$dir/$name.expected
    actual=$tmp/$name.actual
    "$bin" validate "$yaml" 2>"$tmp/stderr" >/dev/null
    code=$?
    { printf '# exit %d\n' "$code"; cat "$tmp/stderr"; } >"$actual"

    # a sanitizer report is a failure, and is never regenerated
    if grep -qE 'Sanitizer|runtime error:' "$actual"; then
        echo "FAIL $name: sanitizer report"
        cat "$actual"
        fail=$((fail + 1))
        continue
    fi
    if [ "$regen" = 1 ]; then
        if ! cmp -s "$actual" "$expected" 2>/dev/null; then
            cp "$actual" "$expected"
            echo "REGENERATED $name"
        fi
        pass=$((pass + 1))
        continue
    fi
    if [ ! -f "$expected" ]; then
        echo "FAIL $name: no $expected (STREAMRUN_REGENERATE=1 writes it)"
        fail=$((fail + 1))
        continue
    fi
    if cmp -s "$expected" "$actual"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        diff -u --label "$expected" --label "actual" "$expected" "$actual"
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
