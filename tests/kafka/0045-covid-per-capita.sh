#!/usr/bin/env bash
# 0045 — covid-per-capita end to end: `streamrun up pipelines/covid-per-capita.yaml
# --exit-at-end` replays the case line list (6,401 rows) and the population table into their
# topics, counts the cases per state and joins the counts with the populations (a table–table
# join), all in one process. The last record per state on cases-per-capita must be the final
# value computed from the two CSV files by tests/pipelines/covid_per_capita_reference.py, no
# state may be unmatched, and the population table's broken first row must be the one dead letter
# of population-errors, with its reason.
source "$(dirname "$0")/lib.sh" "$@"
P=$ROOT/pipelines/covid-per-capita.yaml
DATA=$ROOT/pipelines/data

start_broker "$P"
up up 120 "$P" --exit-at-end
[ "$RC" = 0 ] || fail "streamrun up exited with status $RC"
echo "streamrun up: $SECS s"
expect_summary up populations-replay 38 37 0 1 37
expect_summary up cases-replay 6401 6401 0 0 6401
expect_summary up case-counts 6401 6401 0 0 6401
mkdir -p "$WORK/out"
for t in cases-per-capita unmatched population-errors case-errors; do
    kt read "$ADDR" "$t" "$WORK/out/$t.jsonl"
done
[ ! -s "$WORK/out/case-errors.jsonl" ] ||
    fail "case rows were dead-lettered: $(head -c 300 "$WORK/out/case-errors.jsonl")"
"$PYTHON" "$ROOT/tests/pipelines/covid_per_capita_reference.py" "$DATA/ng-covid-cases.csv" \
    "$DATA/populations.csv" "$WORK/out" || fail "cases-per-capita is not the reference's"
echo "PASS"
