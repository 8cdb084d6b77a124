#!/usr/bin/env bash
# check_codes.sh — every error and warning in the expected diagnostics (tests/errors,
# tests/compat, tests/model/errors) carries a stable code that `streamrun explain` knows:
# `FILE:L:C: error[SR0101]: ...`. Notes are secondary places of a diagnostic, printed without a
# code.
#
#   bash tests/errors/check_codes.sh build/streamrun

set -u
bin=${1:?usage: $0 PATH/TO/streamrun}
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
known=$("$bin" explain | awk '{print $1}')
[ -n "$known" ] || { echo "FAIL: streamrun explain lists no codes"; exit 1; }
fail=0 n=0
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
        echo "FAIL $f: no code: $line"
        fail=$((fail + 1))
    done < <(grep -hE '^[^ #].*: (error|warning)(\[SR[0-9]+\])?: ' "$f"; grep -hoE '"severity":"(error|warning)","code":null,"message":"[^"]*' "$f" | sed -E 's/.*"severity":"(error|warning)","code":null,"message":"/x: \1: /')
done
echo "$n diagnostics, $((n - fail)) with a code, $fail failed"
[ $fail -eq 0 ]
