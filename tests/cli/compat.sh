#!/usr/bin/env bash
# `streamrun compat` on the command line: its usage errors and I/O errors (exit 2), a file that
# does not load (exit 2, its diagnostics), --format json and --format=json, the exit codes 0 and 1
# on the shipped examples (each compatible with itself), and a broker that cannot be reached.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
C=tests/compat

check "no files" expect_exit 2 "$bin" compat
check "usage said" has "$work/stderr" 'usage: streamrun compat RUNNING.yaml EDITED.yaml'
check "one file without --broker" expect_exit 2 "$bin" compat $C/base.yaml
check "three files" expect_exit 2 "$bin" compat $C/base.yaml $C/base.yaml $C/base.yaml
check "unknown option" expect_exit 2 "$bin" compat $C/base.yaml $C/base.yaml --strict
check "unknown option named" has "$work/stderr" "unknown option '--strict'"
check "bad format" expect_exit 2 "$bin" compat $C/base.yaml $C/base.yaml --format yaml
check "missing file" expect_exit 2 "$bin" compat $C/base.yaml "$work/nope.yaml"
check "missing file named" has "$work/stderr" "cannot read '$work/nope.yaml'"
check "invalid file" expect_exit 2 "$bin" compat $C/base.yaml tests/errors/140-migration-unknown-action.yaml
check "invalid file's diagnostics" has "$work/stderr" "140-migration-unknown-action.yaml:8:42: error\[SR0113\]: .*did you mean 'reset'"
check "invalid file said" has "$work/stderr" 'the files must be valid to be compared'
check "json" expect_exit 1 "$bin" compat $C/base.yaml $C/window-resized.yaml --format=json
check "json on stdout" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["severity"]=="error" and d[0]["line"]==24, d' "$work/stdout"
check "json: nothing on stderr" test ! -s "$work/stderr"
check "text" expect_exit 1 "$bin" compat $C/base.yaml $C/window-resized.yaml
check "text summary" has "$work/stderr" '^1 incompatible change: deploying tests/compat/window-resized.yaml would lose or misread state$'
for f in pipelines/*.yaml; do
    case $f in *.tests.yaml) continue ;; esac
    check "$f compatible with itself" expect_exit 0 "$bin" compat "$f" "$f"
done
check "broker not reachable" expect_exit 2 timeout 60 "$bin" compat $C/base.yaml --broker 127.0.0.1:1
check "broker not reachable said" has "$work/stderr" 'streamrun compat: cannot reach the Kafka cluster at 127.0.0.1:1'
finish
