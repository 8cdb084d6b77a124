#!/usr/bin/env bash
# Golden test for `streamrun graph`: every example pipeline, and the test case of deployments
# split at a re-key (tests/cases/repartition.yaml), drawn as dot and as mermaid must match
# tests/graph/NAME.dot and NAME.mmd. STREAMRUN_REGENERATE=1 rewrites them (review before commit).
set -uo pipefail
bin=$1
pass=0 fail=0
for p in pipelines/*.yaml tests/cases/repartition.yaml; do
  case $p in *.tests.yaml) continue ;; esac
  name=$(basename "$p" .yaml)
  for fmt in dot mermaid; do
    ext=$([ $fmt = dot ] && echo dot || echo mmd)
    want=tests/graph/$name.$ext
    got=$("$bin" graph "$p" --format $fmt 2>&1)
    if [ "${STREAMRUN_REGENERATE:-}" = 1 ]; then printf '%s\n' "$got" > "$want"; fi
    if [ -f "$want" ] && diff -u "$want" <(printf '%s\n' "$got"); then
      pass=$((pass + 1))
    else
      echo "FAIL: graph $p --format $fmt differs from $want"
      fail=$((fail + 1))
    fi
  done
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
