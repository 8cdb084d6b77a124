#!/usr/bin/env bash
# join_run_tombstones.sh STREAMRUN — `streamrun run --envelope` reads an envelope whose value is
# null as a tombstone (here a join deletes that input's value and retracts the row) and writes a
# tombstone's envelope with a null value.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/join.yaml" <<'YAML'
topics: [a, b, joined]
deployments:
  - name: j
    input: [a, b]
    pipeline:
      - join: {x: a, y: b}
    output: joined
YAML
# a is fed first, then b: the row when b's value comes, retracted by b's tombstone
printf '%s\n' '{"key":"k","value":1,"timestamp":1}' >"$work/a.jsonl"
printf '%s\n' '{"key":"k","value":2,"timestamp":2}' '{"key":"k","value":null,"timestamp":3}' \
  >"$work/b.jsonl"
"$bin" run "$work/join.yaml" --envelope --in "a=$work/a.jsonl" --in "b=$work/b.jsonl" \
  --out "$work/out" >"$work/stdout" 2>"$work/stderr"
rc=$?
want='{"key":"k","value":{"x":1,"y":2},"timestamp":2}
{"key":"k","value":null,"timestamp":3}'
got=$(cat "$work/out/joined.jsonl" 2>/dev/null)
if [ "$rc" != 0 ] || [ "$got" != "$want" ]; then
  echo "FAIL: exit $rc; got"
  echo "$got"
  echo "expected"
  echo "$want"
  cat "$work/stderr"
  exit 1
fi
echo "ok: a null envelope value is a tombstone, and a retraction's envelope has a null value"
