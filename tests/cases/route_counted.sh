#!/usr/bin/env bash
# route_counted.sh STREAMRUN — a record that no route case matches is dropped and counted:
# `streamrun run` of route.yaml's no-default deployment reports it as filtered.
set -uo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' '{"temp":100}' '{"temp":20}' '{"temp":-40}' |
  "$bin" run tests/cases/route.yaml --only no-default --in in-nodefault=- --out "$work" \
    >"$work/stdout" 2>"$work/stderr"
rc=$?
want='no-default: 3 in (2 delivered, 1 filtered, 0 dead-lettered), 2 out'
if [ "$rc" != 0 ] || ! grep -qF -- "$want" "$work/stderr" ||
  [ "$(cat "$work/hot.jsonl")" != '{"temp":100,"f":212.0}' ] ||
  [ "$(cat "$work/cold.jsonl")" != '{"temp":-40,"f":-40.0}' ]; then
  echo "FAIL: exit $rc; wanted '$want' and one record each on hot and cold"
  cat "$work/stderr"
  head "$work"/*.jsonl
  exit 1
fi
echo "ok: $want"
