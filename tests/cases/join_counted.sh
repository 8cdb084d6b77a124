#!/usr/bin/env bash
# join_counted.sh STREAMRUN — an interval join's record that expires unmatched under
# `unmatched: count` is dropped and counted: `streamrun run` reports it in the summary, and it
# is not dead-lettered.
set -uo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/join.yaml" <<'YAML'
topics: [imps, clicks, joined, errors]
deployments:
  - name: clicks
    input: [imps, clicks]
    deadLetter: errors
    pipeline:
      - join: {inputs: {imp: imps, click: clicks}, within: 10s}
    output: joined
YAML
# x's impression expires unmatched when the click at 100000 moves stream time; y's pair joins
printf '%s\n' '{"key":"x","value":{"i":1},"timestamp":1000}' \
  '{"key":"y","value":{"i":2},"timestamp":90000}' >"$work/imps.jsonl"
printf '%s\n' '{"key":"y","value":{"c":1},"timestamp":95000}' \
  '{"key":"z","value":{"c":2},"timestamp":100000}' >"$work/clicks.jsonl"
"$bin" run "$work/join.yaml" --envelope --in "imps=$work/imps.jsonl" \
  --in "clicks=$work/clicks.jsonl" --out "$work/out" >"$work/stdout" 2>"$work/stderr"
rc=$?
want='clicks: 4 in (1 delivered, 3 filtered, 0 dead-lettered), 1 out, 1 unmatched (join step 1)'
if [ "$rc" != 0 ] || ! grep -qF -- "$want" "$work/stderr" || [ -s "$work/out/errors.jsonl" ] ||
  [ "$(cat "$work/out/joined.jsonl")" != '{"key":"y","value":{"imp":{"i":2},"click":{"c":1}},"timestamp":95000}' ]; then
  echo "FAIL: exit $rc; wanted '$want', one joined record and no dead letter"
  cat "$work/stderr"
  head "$work"/out/*.jsonl
  exit 1
fi
echo "ok: $want"
