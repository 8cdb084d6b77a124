#!/usr/bin/env bash
# Command-line behaviour: run over files (values and envelopes, dead letters), exit codes, usage
# errors, validate --format json, test failures. Prints "N passed, N failed".
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

P=pipelines/phone-normalization.yaml
msg='{"deviceId":"d1","payload":[{"name":"accelerometer","time":1715254407928940000,"values":{"x":30,"y":-20,"z":5.5}}]}'

# values in, values out
printf '%s\n\n%s\n' "$msg" 'not json' > "$work/in.jsonl"
check "run values" expect_exit 0 "$bin" run $P --only data-normalization --in raw-data="$work/in.jsonl" --out "$work/o1"
check "output row" has "$work/o1/table-data.jsonl" '{"time":1715254407928940000,"accelerometer-x":30,"accelerometer-y":-20,"accelerometer-z":5.5,"accelerometer-total":55.5}'
check "one output row" test "$(wc -l < "$work/o1/table-data.jsonl")" = 1
check "dead letter keeps the bytes" has "$work/o1/errors.jsonl" '"value":"not json"'
check "dead letter reason" has "$work/o1/errors.jsonl" '"streamrun.error":"invalid JSON at byte 1'
check "dead letter source" has "$work/o1/errors.jsonl" '"streamrun.source.topic":"raw-data"'
check "summary" has "$work/stderr" 'data-normalization: 2 in (1 delivered, 0 filtered, 1 dead-lettered), 1 out'
check "raw-replay did not run" test ! -e "$work/o1/raw-data.jsonl"

# the summary adds up per input: in = delivered + filtered + dead-lettered, whatever an explode
# makes of one input; out counts the records written
cat > "$work/explode.yaml" <<EOF
topics: [in, out, errors]
deployments:
  - name: exploding
    input: in
    deadLetter: errors
    pipeline:
      - explode: {field: xs, as: x}
      - filter: x > 1
    output: out
EOF
printf '%s\n' '{"xs":[1,2,3]}' '{"xs":[0,1]}' '{"xs":[]}' '{"xs":"no"}' > "$work/explode.jsonl"
check "run explode" expect_exit 0 "$bin" run "$work/explode.yaml" --in in="$work/explode.jsonl" --out "$work/o7"
check "summary adds up per input" has "$work/stderr" 'exploding: 4 in (1 delivered, 2 filtered, 1 dead-lettered), 2 out'

# envelopes in and out: key and timestamp kept
printf '{"key":"dev-9","timestamp":1700000000000,"value":%s,"headers":{"h":"v"}}\n' "$msg" > "$work/env.jsonl"
check "run envelope" expect_exit 0 "$bin" run $P --only data-normalization --in raw-data="$work/env.jsonl" --out "$work/o2" --envelope
check "envelope key, timestamp, headers" has "$work/o2/table-data.jsonl" '{"key":"dev-9","value":{"time":1715254407928940000,"accelerometer-x":30,"accelerometer-y":-20,"accelerometer-z":5.5,"accelerometer-total":55.5},"timestamp":1700000000000,"headers":{"h":"v"}}'
printf '{"key":"k","valu":1}\n' > "$work/badenv.jsonl"
check "bad envelope is an error" expect_exit 2 "$bin" run $P --only data-normalization --in raw-data="$work/badenv.jsonl" --out "$work/o3" --envelope
check "bad envelope message" has "$work/stderr" "badenv.jsonl:1: error: unknown envelope field 'valu'"

# source replay of the whole file
check "run sources" expect_exit 0 "$bin" run $P --out "$work/o4"
check "replay wrote raw-data" test "$(wc -l < "$work/o4/raw-data.jsonl")" = 200

# a deployment re-keyed before a stateful step runs as stages: --only NAME selects all of them,
# --only NAME/2 one; the repartition topic is written like any topic; a summary line per stage
R=tests/cases/repartition.yaml
printf '%s\n' '{"key":"o1","value":{"customer":"alice","amount":1}}' \
    '{"key":"o2","value":{"customer":"alice","amount":2}}' > "$work/orders.jsonl"
check "run a split deployment" expect_exit 0 "$bin" run $R --only per-customer --in orders="$work/orders.jsonl" --out "$work/o8" --envelope
check "its first stage" has "$work/stderr" '^per-customer: 2 in (2 delivered, 0 filtered, 0 dead-lettered), 2 out'
check "its second stage" has "$work/stderr" '^per-customer/2: 2 in (2 delivered, 0 filtered, 0 dead-lettered), 2 out'
check "no other deployment" test "$(grep -c ' in (' "$work/stderr")" = 2
check "the state follows the key" has "$work/o8/counts.jsonl" '"value":{"customer":"alice","n":2,"total":3,"p":1}'
check "the repartition topic written" test "$(wc -l < "$work/o8/shop-per-customer-key-1-repartition.jsonl")" = 2
check "run one stage" expect_exit 0 "$bin" run $R --only per-customer/2 --in orders="$work/orders.jsonl" --out "$work/o9"
check "only that stage" test "$(grep -c ' in (' "$work/stderr")" = 1
check "nothing reached it" has "$work/stderr" '^per-customer/2: 0 in'

# exactly-once is refused on the embedded broker once per deployment as written, not per stage
cat > "$work/eos-split.yaml" <<EOF
topics: [{name: in, partitions: 2}, out]
deployments:
  - name: counted
    input: in
    processing: exactly-once
    pipeline: [{key: k}, {aggregate: count()}]
    output: out
EOF
check "exactly-once split, embedded" expect_exit 2 "$bin" up "$work/eos-split.yaml"
check "refused once" test "$(grep -c "asks for processing: exactly-once" "$work/stderr")" = 1

# usage errors: exit 2 with a message
check "unknown --in topic" expect_exit 2 "$bin" run $P --in nope=x --out "$work/o5"
check "unknown --in topic message" has "$work/stderr" "no topic named 'nope'"
check "unknown --only" expect_exit 2 "$bin" run $P --only nope
check "unreadable input" expect_exit 2 "$bin" run $P --only data-normalization --in raw-data=/nonexistent --out "$work/o6"
check "unknown command" expect_exit 2 "$bin" vaildate $P
check "unknown command suggestion" has "$work/stderr" "did you mean 'validate'"
check "missing file" expect_exit 2 "$bin" validate /nonexistent.yaml
check "no arguments" expect_exit 2 "$bin"

# validate --format json
printf 'topics: [a]\ndeployments:\n  - {name: x, input: b}\n' > "$work/bad.yaml"
check "validate invalid" expect_exit 1 "$bin" validate "$work/bad.yaml" --format json
check "validate json parses" /usr/bin/python3 -c "import json,sys; d=json.load(open('$work/stdout')); assert any(e['line']==3 and e['column']==22 and e['severity']=='error' and e['message']==\"unknown topic 'b'; did you mean 'a'?\" for e in d), d"
check "validate valid" expect_exit 0 "$bin" validate $P pipelines/covid-cases.yaml
check "validate summary" has "$work/stderr" "2 files valid"

# test: a failing case exits 1, a file without cases exits 1
mkdir -p "$work/t" && cp -r pipelines/data "$work/t/" && cp $P "$work/t/p.yaml"
sed 's/accelerometer-total: 68.25/accelerometer-total: 1/' pipelines/phone-normalization.tests.yaml > "$work/t/p.tests.yaml"
check "failing test exits 1" expect_exit 1 "$bin" test "$work/t/p.yaml"
check "failing test shows the difference" has "$work/stdout" 'accelerometer-total":68.25'
check "failing test summary" has "$work/stdout" '3 passed, 1 failed'
rm "$work/t/p.tests.yaml"
check "no test cases exits 1" expect_exit 1 "$bin" test "$work/t/p.yaml"
check "no test cases message" has "$work/stderr" "has no test cases"

# test writes no file: write steps are captured in memory (an untrusted topology tested in CI
# cannot overwrite or create files), whatever their paths
mkdir -p "$work/w/sub"
echo 'keep me' > "$work/w/victim.jsonl"
cat > "$work/w/sub/writes.yaml" <<EOF
topics: [in, out]
deployments:
  - name: writing
    input: in
    pipeline:
      - write: $work/w/victim.jsonl
      - write: ../created.jsonl
      - write: {file: created-here.jsonl, metadata: true}
    output: out
tests:
  - name: writes are captured
    input:
      in: [{key: k, timestamp: 7, value: {a: 1}}]
    expect:
      out: [{value: {a: 1}}]
    files:
      $work/w/victim.jsonl: [{a: 1}]
      created-here.jsonl: [{key: k, timestamp: 7, value: {a: 1}}]
EOF
check "test with write steps" expect_exit 0 bash -c "cd '$work/w/sub' && '$bin' test writes.yaml"
check "test compares the captured lines" has "$work/stdout" '1 passed, 0 failed'
check "test overwrote no file" test "$(cat "$work/w/victim.jsonl")" = 'keep me'
check "test created no file" test -z "$(find "$work/w" -name 'created*')"

# kafka: properties that could run code are refused by validate and up unless allowed, and no
# message quotes their values (nor a password's)
printf 'kafka: {plugin.library.paths: /nonexistent/lib-v1.so, sasl.password: pw-v2}\ntopics: [a]\ndeployments:\n  - {name: x, input: a, pipeline: [print]}\n' > "$work/unsafe.yaml"
lacks() { ! grep -q -- "$2" "$1" || { echo "  '$2' in $1:"; cat "$1"; return 1; }; }
check "validate refuses plugin.library.paths" expect_exit 1 "$bin" validate "$work/unsafe.yaml"
check "validate names the flag" has "$work/stderr" "plugin.library.paths loads shared libraries .*refused unless --allow-unsafe-kafka-properties"
check "validate hides the value" lacks "$work/stderr" "lib-v1"
check "validate hides the password" lacks "$work/stderr" "pw-v2"
check "validate allows it with the flag" expect_exit 0 "$bin" validate "$work/unsafe.yaml" --allow-unsafe-kafka-properties
check "up refuses it before any client" expect_exit 1 "$bin" up "$work/unsafe.yaml" --broker 127.0.0.1:9 --exit-at-end
check "up names the flag" has "$work/stderr" "refused unless --allow-unsafe-kafka-properties"
check "up hides the value" lacks "$work/stderr" "lib-v1"
check "up hides the password" lacks "$work/stderr" "pw-v2"
check "up with the flag loads the file" expect_exit 2 "$bin" up "$work/unsafe.yaml" --only nope --allow-unsafe-kafka-properties
check "up with the flag gets past the check" has "$work/stderr" "no deployment named 'nope'"

# a stateful step's changelog topic is named after the consumer group and the store: a name Kafka
# would refuse is reported at the step, before any client (validate, run and test accept it)
cat > "$work/stateful.yaml" <<'YAML'
topics: [a, b]
deployments:
  - name: totals
    input: a
    output: b
    pipeline:
      - filter: x > 0
      - aggregate: {fields: {total: sum(x)}, store: "running total"}
  - {name: plain, input: a, output: b, pipeline: [print]}
YAML
check "validate accepts a stateful step" expect_exit 0 "$bin" validate "$work/stateful.yaml"
check "up refuses a changelog name Kafka refuses" expect_exit 2 "$bin" up "$work/stateful.yaml" --broker 127.0.0.1:9 --exit-at-end
check "up says where and why" has_text "$work/stderr" "stateful.yaml:8:9: error[SR0202]: deployment 'totals': aggregate (step 2): the changelog topic 'stateful-totals-running total-changelog' (consumer group and store name) holds ' ', which Kafka does not take in a topic name"
check "... before any client" lacks "$work/stderr" "127.0.0.1:9"
check "up without the stateful deployment gets past the check" expect_exit 2 "$bin" up "$work/stateful.yaml" --only nope
check "... to the next one" has "$work/stderr" "no deployment named 'nope'"

# headers: a record keeps all of them, however many (through run's in-process topics and through
# test's input records; neither may cut them at a fixed count)
hdrs=$(for i in $(seq 70); do printf '"h%d":"v%d",' "$i" "$i"; done)
hdrs=${hdrs%,}
printf '{"key":"k","value":{"a":1},"headers":{%s}}\n' "$hdrs" > "$work/hdrs.jsonl"
printf 'topics: [a, b, c]\ndeployments:\n  - {name: x, input: a, pipeline: [{set: {n: 1}}], output: b}\n  - {name: y, input: b, output: c}\n' > "$work/hdrs.yaml"
check "run with 70 headers" expect_exit 0 "$bin" run "$work/hdrs.yaml" --in a="$work/hdrs.jsonl" --out "$work/oh" --envelope
check "run keeps all 70 headers" /usr/bin/python3 -c "import json; r=json.loads(open('$work/oh/c.jsonl').readline()); assert r['headers']==dict(('h%d'%i,'v%d'%i) for i in range(1,71)), r['headers']"
{
    cat "$work/hdrs.yaml"
    echo "tests:"
    echo "  - name: headers"
    echo "    input:"
    echo "      a: [{key: k, value: {a: 1}, headers: {$(for i in $(seq 40); do printf 'h%d: v%d, ' "$i" "$i"; done)}}]"
    echo "    expect:"
    echo "      b: [{value: {a: 1, n: 1}, headers: {h1: v1, h33: v33, h40: v40}}]"
    echo "      c: [{value: {a: 1, n: 1}, headers: {h40: v40}}]"
} > "$work/hdrs-test.yaml"
check "test with 40 headers" expect_exit 0 "$bin" test "$work/hdrs-test.yaml"

# graph: bad format is a usage error
check "graph bad format" expect_exit 2 "$bin" graph $P --format svg

# JSON input: invalid UTF-8 in a string is a dead letter naming the byte; a repeated key keeps its
# last value (as jq, Python and JavaScript); every line written is valid UTF-8 JSON
mkdir -p "$work/j"
cat > "$work/j/p.yaml" <<EOF
topics: [in, out, dead]
deployments:
  - name: d
    input: in
    deadLetter: dead
    pipeline:
      - filter: a == 2
    output: out
EOF
printf '{"a":1,"b":0,"a":2}\n{"a":2,"s":"caf\xe9"}\n{"a":2,"s":"\xc3\xa9"}\n' > "$work/j/in.jsonl"
check "run utf-8 and repeats" expect_exit 0 "$bin" run "$work/j/p.yaml" --in in="$work/j/in.jsonl" --out "$work/j/o"
check "repeated key: last value, first place" has "$work/j/o/out.jsonl" '^{"a":2,"b":0}$'
check "valid UTF-8 passes" has "$work/j/o/out.jsonl" '^{"a":2,"s":"é"}$'
check "invalid UTF-8 dead-lettered" has "$work/j/o/dead.jsonl" '"streamrun.error":"invalid JSON at byte 16: invalid UTF-8 in string"'
check "dead letter is valid UTF-8 JSON" /usr/bin/python3 -c "
import json
lines = open('$work/j/o/dead.jsonl', 'rb').read().decode('utf-8').splitlines()
assert len(lines) == 1 and json.loads(lines[0])['value'] == '{\"a\":2,\"s\":\"caf\ufffd\"}', lines"

# source files: a line past the maximum (16 MiB) stops the run with an error naming the file and
# line, instead of reading without bound (/dev/zero grew to 2 GB, then read as no records, exit 0)
cat > "$work/j/zero.yaml" <<EOF
topics: [out]
deployments:
  - name: z
    source: {file: /dev/zero, format: jsonl}
    output: out
EOF
check "endless line is an error" expect_exit 2 timeout 60 "$bin" run "$work/j/zero.yaml" --out "$work/j/oz"
check "endless line message" has "$work/stderr" '/dev/zero:1: line longer than 16777216 bytes'

# --in: a UTF-8 byte order mark opening the file is dropped, as from source files (it made the
# first record invalid JSON); one later in the file is data
printf '\xef\xbb\xbf{"a":2,"n":1}\n\xef\xbb\xbf{"a":2,"n":2}\n' > "$work/j/bom.jsonl"
check "run --in with a BOM" expect_exit 0 "$bin" run "$work/j/p.yaml" --in in="$work/j/bom.jsonl" --out "$work/j/ob"
check "BOM dropped from the first line" has "$work/j/ob/out.jsonl" '^{"a":2,"n":1}$'
check "a BOM inside the file is data" has "$work/j/ob/dead.jsonl" '"streamrun.source.offset":"1"'
printf '\xef\xbb\xbf{"key":"k","value":{"a":2}}\n' > "$work/j/bom-env.jsonl"
check "run --in --envelope with a BOM" expect_exit 0 "$bin" run "$work/j/p.yaml" --in in="$work/j/bom-env.jsonl" --out "$work/j/obe" --envelope
check "BOM dropped from the first envelope" has "$work/j/obe/out.jsonl" '^{"key":"k","value":{"a":2}'

# --in reads like a source file: a read error or an endless line stops the run (a directory was
# read as an empty file, exit 0); standard input still streams
check "--in a directory is an error" expect_exit 2 "$bin" run "$work/j/p.yaml" --in in="$work/j" --out "$work/j/od"
check "--in directory message" has "$work/stderr" "$work/j: read error: Is a directory"
check "--in endless line is an error" expect_exit 2 timeout 60 "$bin" run "$work/j/p.yaml" --in in=/dev/zero --out "$work/j/od"
check "--in endless line message" has "$work/stderr" '/dev/zero:1: line longer than 16777216 bytes'
check "--in from standard input" expect_exit 0 bash -c "printf '{\"a\":2}\n' | '$bin' run '$work/j/p.yaml' --in in=- --out '$work/j/os'"
check "standard input read" has "$work/j/os/out.jsonl" '^{"a":2}$'

# --state-memory: one budget for all the state of the process; a record whose change does not fit
# is dead-lettered with the store named, the run goes on, and the summary reports the state held
S=tests/cases/state-memory.yaml
printf '%s\n' '{"key":"a","timestamp":1000,"value":{"km":1}}' '{"key":"b","timestamp":2000,"value":{"km":2}}' > "$work/km.jsonl"
check "run with a tiny state budget" expect_exit 0 "$bin" run $S --in in="$work/km.jsonl" --envelope --out "$work/sm1" --state-memory 1B
check "the store is named" has "$work/sm1/errors.jsonl" '"streamrun.error":"state store .aggregate-1.: memory budget exceeded: [0-9]* more bytes needed, [0-9]* of the budget.s 1 bytes in use'
check "the window's store is named" has "$work/sm1/errors.jsonl" "state store 'windows-of-km': memory budget exceeded"
check "state records dead-lettered" test "$(wc -l < "$work/sm1/errors.jsonl")" = 4
check "the stateless deployment goes on" test "$(wc -l < "$work/sm1/copies.jsonl")" = 2
check "summary of a budget refusal" has "$work/stderr" 'odometer: 2 in (0 delivered, 0 filtered, 2 dead-lettered), 0 out'
check "state report: nothing kept" has "$work/stderr" '^state: 0 keys in [0-9]* bytes, at most [0-9]* bytes (budget 1 bytes)$'
check "run with room for the state" expect_exit 0 "$bin" run $S --in in="$work/km.jsonl" --envelope --out "$work/sm2" --state-memory 64KiB
# aggregate: keys a and b; window: the window [0, 10000) of each
check "state report: keys kept" has "$work/stderr" '^state: 4 keys in [0-9]* bytes, at most [0-9]* bytes (budget 65536 bytes)$'
check "no errors with room" test ! -e "$work/sm2/errors.jsonl"
# a third record closes both windows of [0, 10000) and opens one: fewer bytes at the end than at most
printf '%s\n' '{"key":"b","timestamp":25000,"value":{"km":2}}' >> "$work/km.jsonl"
check "state report without a budget" expect_exit 0 "$bin" run $S --in in="$work/km.jsonl" --envelope --out "$work/sm3"
check "no budget said" has "$work/stderr" '^state: 3 keys in [0-9]* bytes, at most [0-9]* bytes (no budget)$'
state_now=$(sed -n 's/^state: .* in \([0-9]*\) bytes, at most.*/\1/p' "$work/stderr")
state_peak=$(sed -n 's/^state: .* at most \([0-9]*\) bytes.*/\1/p' "$work/stderr")
check "at most: more than at the end, after the windows closed" test "$state_peak" -gt "$state_now"
check "a stateless run reports no state" expect_exit 0 "$bin" run $S --only copy --in in="$work/km.jsonl" --envelope --out "$work/sm4"
check "no state line" bash -c "! grep -q '^state:' '$work/stderr'"
check "--state-memory needs a size" expect_exit 2 "$bin" run $S --state-memory lots
check "--state-memory message" has "$work/stderr" "streamrun run: --state-memory takes a size such as 512MiB, 64KiB or 1GB"
check "test --state-memory" expect_exit 0 "$bin" test --state-memory 1MiB tests/cases/crash.yaml
check "test --state-memory needs a size" expect_exit 2 "$bin" test --state-memory 0 $S
check "up --state-memory needs a size" expect_exit 2 "$bin" up $S --state-memory 1.5GiB
check "up --state-memory message" has "$work/stderr" "streamrun up: --state-memory takes a size"

# score: one JSON line out per record in; a record that does not match input_schema gets an error
# line (stdout and stderr, with its line number) and exit 1 at the end; blank lines are skipped
pk=tests/model/packages/split
printf '\xef\xbb\xbf{"speed":0.09,"load":1}\n\n{"speed":0.1,"load":1,"other":"x"}\n{"speed":1e39,"load":1}\n{"speed":1,"load":2.5}\n{"speed":1}\nnope\n{"speed":2,"load":3}\n' > "$work/score.jsonl"
check "score a bad record" expect_exit 1 "$bin" score $pk --in "$work/score.jsonl"
check "score: one line per record" test "$(wc -l < "$work/stdout")" = 7
check "score below the split" has_text "$work/stdout" '{"label":"slow","label_index":0,"probabilities":{"slow":0.75,"fast":0.25}}'
check "score at the split goes right in float32" test "$(sed -n 2p "$work/stdout")" = '{"label":"fast","label_index":1,"probabilities":{"slow":0.0,"fast":1.0}}'
check "score after the errors" test "$(sed -n 7p "$work/stdout")" = '{"label":"fast","label_index":1,"probabilities":{"slow":0.0,"fast":1.0}}'
check "score: too large for float32" has_text "$work/stderr" "score.jsonl:4: error: 'speed' is 1e+39, too large for float32"
check "score: not an INTEGER" has_text "$work/stderr" "score.jsonl:5: error: load: the model's input is an INTEGER, not a non-integer number"
check "score: missing field" has_text "$work/stderr" "score.jsonl:6: error: load: field is missing (the model's input INTEGER)"
check "score: not JSON" has_text "$work/stderr" "score.jsonl:7: error: invalid JSON at byte 1: invalid literal"
check "score: error line on stdout" test "$(sed -n 5p "$work/stdout")" = '{"error":"load: field is missing (the model'"'"'s input INTEGER)"}'
check "score: summary" has_text "$work/stderr" "4 of 7 records could not be scored"
check "score from standard input" expect_exit 0 bash -c "printf '{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5}\n' | '$bin' score tests/model/packages/alert"
check "score a binary logistic" has_text "$work/stdout" '{"label":"normal","label_index":0,"probabilities":{"normal":0.7549149868676283,"alert":0.24508501313237172}}'
check "score without a package" expect_exit 2 "$bin" score
check "score an unknown option" expect_exit 2 "$bin" score $pk --out x
check "score an unreadable input" expect_exit 2 "$bin" score $pk --in "$work"
check "score an invalid package" expect_exit 1 "$bin" score tests/model/errors/004-tree-child-out-of-range --in /dev/null
check "score an invalid package message" has_text "$work/stderr" "model.json:5:57: error[SR0104]: trees[0][0].right: expected an integer from 1 to 4, not 9"

finish
