#!/usr/bin/env bash
# check_codes.sh — every error and warning in the expected diagnostics (tests/errors,
# tests/compat, tests/model/errors) carries a stable code that `streamrun explain` knows:
# `FILE:L:C: error[SR0101]: ...`. A message still without a code must match an entry of
# tests/errors/uncoded.txt (those being given theirs); an entry that matches nothing is reported
# so that it is deleted. Notes are secondary places of a diagnostic, printed without a code.
#
#   bash tests/errors/check_codes.sh build/streamrun

set -u
bin=${1:?usage: $0 PATH/TO/streamrun}
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
allow=tests/errors/uncoded.txt
known=$("$bin" explain | awk '{print $1}')
[ -n "$known" ] || { echo "FAIL: streamrun explain lists no codes"; exit 1; }
fail=0 n=0 allowed=0
declare -A used=()
patterns=()
while IFS= read -r p; do
    case $p in '#'* | '') continue ;; esac
    patterns+=("$p")
done <"$allow"
shopt -s nullglob
for f in tests/errors/*.expected tests/compat/*.expected tests/model/errors/*.expected; do
    while IFS= read -r line; do
        n=$((n + 1))
        if [[ $line =~ :\ (error|warning)\[(SR[0-9]{4})\]:\  ]]; then
            code=${BASH_REMATCH[2]}
            if ! grep -qx "$code" <<<"$known"; then
                echo "FAIL $f: unknown code $code: $line"
                fail=$((fail + 1))
            fi
            continue
        fi
        msg=${line#*: error: }
        [ "$msg" = "$line" ] && msg=${line#*: warning: }
        ok=0
        for p in "${patterns[@]}"; do
            if [[ $msg =~ $p ]]; then
                ok=1
                used[$p]=1
                break
            fi
        done
        if [ $ok = 1 ]; then
            allowed=$((allowed + 1))
        else
            echo "FAIL $f: no code: $line"
            fail=$((fail + 1))
        fi
    done < <(grep -hE '^[^ #].*: (error|warning)(\[SR[0-9]+\])?: ' "$f"; grep -hoE '"severity":"(error|warning)","code":null,"message":"[^"]*' "$f" | sed -E 's/.*"severity":"(error|warning)","code":null,"message":"/x: \1: /')
done
for p in "${patterns[@]}"; do
    [ -n "${used[$p]:-}" ] || echo "note: $allow: '$p' matches no diagnostic without a code any more: delete it"
done
echo "$n diagnostics, $((n - allowed - fail)) with a code, $allowed allowed without one (uncoded.txt), $fail failed"
[ $fail -eq 0 ]
