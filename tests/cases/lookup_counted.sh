#!/usr/bin/env bash
# lookup_counted.sh STREAMRUN — an inner lookup's records with no match are dropped and counted:
# `streamrun run` of lookup.yaml's inner-count deployment reports them in its summary line.
set -uo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' '{"key":"Lagos","value":{"n":1}}' '{"key":"Kano","value":{"n":2}}' \
  '{"key":"Abuja","value":{"n":3}}' |
  "$bin" run tests/cases/lookup.yaml --only inner-count --envelope --in cases=- --out "$work" \
    >"$work/stdout" 2>"$work/stderr"
rc=$?
want='inner-count: 3 in (1 delivered, 2 filtered, 0 dead-lettered), 1 out, 2 unmatched (lookup step 1, table populations)'
if [ "$rc" != 0 ] || ! grep -qF -- "$want" "$work/stderr" ||
  [ "$(wc -l <"$work/out.jsonl")" != 1 ] ||
  ! grep -qF '"key":"Lagos","value":{"n":1,"population":12550598,"cc":"NG"}' "$work/out.jsonl"; then
  echo "FAIL: exit $rc; wanted '$want' and one record on out"
  cat "$work/stderr"
  head "$work"/*.jsonl
  exit 1
fi
echo "ok: $want"
