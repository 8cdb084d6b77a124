# covid.sh — sourced by tests/kafka/0047 and 0048 (after lib.sh): pipelines/covid-per-capita.yaml
# with its inputs in two parts, so that its stateful deployments can be stopped, killed or joined
# between them.
#   $WORK/cpc.yaml  the pipeline, the population table given absolutely and the line list read
#                   from $CASES_FILE at $CASES_RATE records/s (0: as fast as it can); the
#                   stateful deployments with a 6 s session (Apache Kafka: a killed member's
#                   partitions move within the test's time, not after librdkafka's 45 s)
#   $WORK/cases-a.csv, $WORK/cases-b.csv  the line list's first 3,200 rows and the rest (each
#                   with the header)
# replay LOG FILE [RATE] [--populations]: replays FILE (and the population table) into the topics
# with `up --exit-at-end`, in the foreground.
# counted N: waits until case-counts holds N records (every case row counted once).
# settled: waits (at most 60 s) until cases-per-capita, unmatched and population-errors, read
# into $WORK/out, pass covid_per_capita_reference.py --after-crash.
DATA=$ROOT/pipelines/data
sed -e 's#source: {file: data/ng-covid-cases.csv, format: csv}#source:\n      file: ${CASES_FILE}\n      format: csv\n      rate: ${CASES_RATE:-0}#' \
    -e "s#file: data/populations.csv#file: $DATA/populations.csv#" \
    -e 's#^  - name: \(case-counts\|per-capita\)$#&\n    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}#' \
    "$ROOT/pipelines/covid-per-capita.yaml" >"$WORK/cpc.yaml"
grep -q 'CASES_FILE' "$WORK/cpc.yaml" && ! grep -q 'file: data/' "$WORK/cpc.yaml" &&
    [ "$(grep -c 'session.timeout.ms: 6000' "$WORK/cpc.yaml")" = 2 ] ||
    fail "cannot make the test's copy of covid-per-capita.yaml"
"$PYTHON" - "$DATA/ng-covid-cases.csv" "$WORK/cases-a.csv" "$WORK/cases-b.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
for path, part in ((sys.argv[2], rows[1:3201]), (sys.argv[3], rows[3201:])):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0]] + part)
PY
export CASES_FILE=$WORK/cases-a.csv

replay() {
    local log=$1 file=$2 rate=${3:-0} only=(--only cases-replay)
    [ "${4:-}" != --populations ] || only+=(--only populations-replay)
    CASES_FILE=$file CASES_RATE=$rate up "$log" 120 "$WORK/cpc.yaml" "${only[@]}" --exit-at-end
    [ "$RC" = 0 ] || fail "the replay of $file exited with status $RC"
}

counted() {
    kt wait "$ADDR" case-counts "$1" --isolation read_uncommitted --timeout 60 >/dev/null
}

settled() {
    local end=$((SECONDS + 60))
    mkdir -p "$WORK/out"
    while [ $SECONDS -lt $end ]; do
        for t in cases-per-capita unmatched population-errors; do
            kt read "$ADDR" "$t" "$WORK/out/$t.jsonl" >/dev/null
        done
        if "$PYTHON" "$ROOT/tests/pipelines/covid_per_capita_reference.py" \
            "$DATA/ng-covid-cases.csv" "$DATA/populations.csv" "$WORK/out" --after-crash \
            >"$WORK/reference.txt"; then
            cat "$WORK/reference.txt"
            return 0
        fi
        sleep 0.5
    done
    cat "$WORK/reference.txt"
    fail "cases-per-capita did not reach the reference's final values in 60 s"
}
