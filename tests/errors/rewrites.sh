#!/usr/bin/env bash
# rewrites.sh — the rewrites that the YAML and expression diagnostics (SR04xx, SR05xx) show in
# their help lines fix what they report: for every tests/errors case whose first diagnostic is
# one of them with a rewritten line ("= help: ...:" then the line), the case with that line
# replaced must no longer report that code at that line.
#
#   bash tests/errors/rewrites.sh build/streamrun

set -u
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/streamrun" >&2
    exit 2
fi
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
export LC_ALL=C
unset STREAMRUN_ERRORS_UNSET
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

checked=0 fail=0
for expected in tests/errors/*.expected; do
    yaml=${expected%.expected}.yaml
    [ -f "$yaml" ] || continue
    # the first diagnostic: its line and code, and the line its help rewrites
    first=$(grep -m1 -E '^[^ ].*:[0-9]+:[0-9]+: (error|warning)\[SR0[45][0-9][0-9]\]' "$expected") || continue
    line=$(sed -E 's/^.*\.yaml:([0-9]+):[0-9]+: .*/\1/' <<<"$first")
    code=$(sed -E 's/^.*\[(SR[0-9]+)\].*/\1/' <<<"$first")
    # its help, if it ends in ':' and the next line is the rewrite (indented by 14 columns)
    help=$(awk -v f="$first" 'found && /^      = help: .*:$/ { getline l; print substr(l, 15); exit }
                              found && /^[^ ]/ { exit }
                              $0 == f { found = 1 }' "$expected")
    [ -n "$help" ] || continue
    awk -v n="$line" -v h="$help" 'NR == n { print h; next } { print }' "$yaml" >"$tmp/case.yaml"
    out=$("$bin" validate "$tmp/case.yaml" 2>&1)
    checked=$((checked + 1))
    if grep -qE "^$tmp/case\.yaml:$line:[0-9]+: (error|warning)\[$code\]" <<<"$out"; then
        echo "FAIL $yaml: the rewrite of line $line still gives $code:"
        echo "$out"
        fail=$((fail + 1))
    fi
done
echo "$checked rewrites checked, $fail failed"
[ $checked -gt 0 ] && [ $fail -eq 0 ]
