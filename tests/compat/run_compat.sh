#!/usr/bin/env bash
# run_compat.sh — runs `streamrun compat RUNNING EDITED` on every case of tests/compat and
# compares the exit code and the report with NAME.expected: "# exit N" on the first line, then
# the exact stderr (stdout for a case named json-*, run with --format json). RUNNING is
# NAME.running.yaml when the case has one, else base.yaml. Run from the repository root, since
# diagnostics quote paths as given.
#
#   bash tests/compat/run_compat.sh build/streamrun
#   STREAMRUN_REGENERATE=1 bash tests/compat/run_compat.sh build/streamrun   # rewrite .expected

set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 PATH/TO/streamrun" >&2
    exit 2
fi
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[ -x "$bin" ] || { echo "$0: $bin is not an executable" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
dir=tests/compat
export LC_ALL=C
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
regen=${STREAMRUN_REGENERATE:-0}
pass=0 fail=0 ok=0 bad=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for edited in "$dir"/*.yaml; do
    name=$(basename "$edited" .yaml)
    case $name in base | *.running) continue ;; esac
    running=$dir/base.yaml
    [ -f "$dir/$name.running.yaml" ] && running=$dir/$name.running.yaml
    actual=$tmp/$name.actual
    case $name in
    json-*)
        "$bin" compat "$running" "$edited" --format json >"$tmp/out" 2>"$tmp/err"
        code=$?
        { printf '# exit %d\n' "$code"; cat "$tmp/out" "$tmp/err"; } >"$actual"
        ;;
    *)
        "$bin" compat "$running" "$edited" 2>"$tmp/err" >"$tmp/out"
        code=$?
        { printf '# exit %d\n' "$code"; cat "$tmp/err" "$tmp/out"; } >"$actual"
        ;;
    esac
    # a case named ok-* must be compatible and report nothing; every other case must be refused
    # or warned about (so that a check that finds nothing cannot pass the suite)
    case $name in
    ok-*) [ "$code" = 0 ] && ! grep -qE '(error|warning|note)' "$actual" || { echo "FAIL $name: an ok- case must pass silently"; cat "$actual"; fail=$((fail + 1)); continue; } ;;
    *) grep -qE '(error|warning|note)' "$actual" || { echo "FAIL $name: nothing reported"; cat "$actual"; fail=$((fail + 1)); continue; } ;;
    esac
    [ "$code" = 0 ] && ok=$((ok + 1)) || bad=$((bad + 1))
    if grep -qE 'Sanitizer|runtime error:' "$actual"; then
        echo "FAIL $name: sanitizer report"
        cat "$actual"
        fail=$((fail + 1))
        continue
    fi
    expected=$dir/$name.expected
    if [ "$regen" = 1 ]; then
        cmp -s "$actual" "$expected" 2>/dev/null || { cp "$actual" "$expected"; echo "REGENERATED $name"; }
        pass=$((pass + 1))
        continue
    fi
    if [ ! -f "$expected" ]; then
        echo "FAIL $name: no $expected (STREAMRUN_REGENERATE=1 writes it)"
        fail=$((fail + 1))
    elif cmp -s "$expected" "$actual"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        diff -u --label "$expected" --label actual "$expected" "$actual"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed ($ok compatible, $bad refused)"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
