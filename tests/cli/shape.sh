#!/usr/bin/env bash
# `streamrun shape FILE`: the shape it infers from a sample (JSON lines, CSV) against expected
# files, and that the shape pasted under a topic is accepted by validate and used by it (a
# misspelt field of the sample is then refused from the first step). Prints "N passed, N failed".
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
d=tests/cli/shape

check "jsonl" expect_exit 0 "$bin" shape $d/quakes.jsonl
check "jsonl shape" cmp "$work/stdout" $d/quakes.expected
check "bad line skipped with a warning" has "$work/stderr" "quakes.jsonl:4: warning: skipped: invalid JSON"
check "csv" expect_exit 0 "$bin" shape $d/cities.csv
check "csv shape" cmp "$work/stdout" $d/cities.expected
check "csv as --format" expect_exit 0 "$bin" shape --format=csv $d/cities.csv
check "csv as --format, same shape" cmp "$work/stdout" $d/cities.expected

# the shape pasted under a topic, indented: validate accepts it and checks fields against it
topology() { # topology FILTER: a topology whose input topic has the inferred shape
  { printf 'topics:\n  - name: quakes\n'
    sed -e '/^#/d' -e 's/^/    /' $d/quakes.expected
    printf '  - name: felt\ndeployments:\n  - name: felt-quakes\n    input: quakes\n'
    printf '    pipeline:\n      - filter: "%s"\n    output: felt\n' "$1"; } > "$work/t.yaml"
}
topology "felt > 10 and location.depth < 50 and tsunami"
check "validate accepts the shape" expect_exit 0 "$bin" validate "$work/t.yaml"
topology "felt > 10 and location.dept < 50"
check "a field the shape lacks" expect_exit 1 "$bin" validate "$work/t.yaml"
check "a field the shape lacks, said" has "$work/stderr" "error\[SR0353\]: 'location' has no field 'dept'; did you mean 'depth'?"
topology "tsunami == 'yes'"
check "a type the shape gives" expect_exit 1 "$bin" validate "$work/t.yaml"
check "a type the shape gives, said" has "$work/stderr" "comparing a boolean with a string is always false"

# objects nested deeper than a shape may be: written as object from the 32nd level on, so that
# the shape printed is one validate reads
python3 -c 'print("{\"a\":" * 40 + "1" + "}" * 40)' > "$work/deep.jsonl"
check "deep" expect_exit 0 "$bin" shape "$work/deep.jsonl"
check "deep: object at the 32nd level" test "$(grep -c 'a:$' "$work/stdout")" = 31
{ printf 'topics:\n  - name: t\n'; sed -e '/^#/d' -e 's/^/    /' "$work/stdout"
  printf '  - o\ndeployments:\n  - {name: d, input: t, output: o}\n'; } > "$work/deep.yaml"
check "deep: validate reads it" expect_exit 0 "$bin" validate "$work/deep.yaml"

# usage and file errors
check "no file" expect_exit 2 "$bin" shape
check "two files" expect_exit 2 "$bin" shape $d/quakes.jsonl $d/cities.csv
check "bad format" expect_exit 2 "$bin" shape --format xml $d/quakes.jsonl
check "a directory" expect_exit 2 "$bin" shape $d
check "missing file" expect_exit 1 "$bin" shape "$work/none.jsonl"
printf '[1]\nnot json\n' > "$work/bad.jsonl"
check "no record at all" expect_exit 1 "$bin" shape "$work/bad.jsonl"
check "no record at all, said" has "$work/stderr" "has no records to infer a shape from (every line was skipped)"
finish
