#!/usr/bin/env bash
# source_reasons.sh STREAMRUN — the reasons of a source file's rows that cannot be read, as the
# README quotes them: a CSV row whose cell count is not the number of `columns`.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
printf 'a,b,c,d\n1,2,3,4,5\n' >rows.csv
cat >rows.yaml <<'YAML'
topics: [out, errors]
deployments:
  - name: rows
    source: {file: rows.csv, format: csv, header: false, columns: [a, b, c, d, e]}
    output: out
    deadLetter: errors
YAML
"$bin" run rows.yaml --out out >stdout 2>stderr
rc=$?
want='"streamrun.error":"row has 4 cells, columns: names 5"'
if [ "$rc" != 0 ] || ! grep -qF -- "$want" out/errors.jsonl ||
  [ "$(cat out/out.jsonl)" != '{"a":1,"b":2,"c":3,"d":4,"e":5}' ]; then
  echo "FAIL: exit $rc; wanted $want in errors and the full row in out"
  cat stderr out/*.jsonl
  exit 1
fi
echo "ok: $want"
