#!/usr/bin/env bash
# 0046 — sensor-alerts end to end: `streamrun up pipelines/sensor-alerts.yaml --exit-at-end`
# replays the sample readings (8 clients, 1,920 readings) into SX, SY and SZ (100 partitions
# keyed by client), computes the window features FA, FI and FD, joins the latest SX, SY, FA, FI
# and FD per client (a five-topic latest-by-key join), scores them with the sensor-alert model
# (pipelines/models/sensor-alerts) and writes the predictions. The features
# must be those of tests/pipelines/sensor_features_reference.py and the last prediction per
# client the one tests/pipelines/sensor_alerts_reference.py computes from the readings.
source "$(dirname "$0")/lib.sh" "$@"
SENSORS=$ROOT/pipelines/data/sensors.jsonl
# the readings' times are of May 2024, which a broker's retention (7 days) deletes at its next
# check: a copy whose topics keep everything (the embedded broker applies no configs), its model
# package the one in pipelines/models
P=$WORK/sensor-alerts.yaml
sed -e 's#partitions: 100}#partitions: 100, config: {retention.ms: -1}}#' \
    -e 's#partitions: 100, shape:#partitions: 100, config: {retention.ms: -1}, shape:#' \
    -e 's#^    partitions: 100$#&\n    config: {retention.ms: -1}#' \
    -e "s#:-data/sensors.jsonl#:-$SENSORS#" \
    -e "s#package: models/#package: $ROOT/pipelines/models/#" "$ROOT/pipelines/sensor-alerts.yaml" >"$P"
[ "$(grep -c 'retention.ms: -1' "$P")" = 8 ] && grep -q "package: $ROOT/pipelines/models/sensor-alerts" "$P" ||
    fail "cannot make the test's copy of sensor-alerts.yaml"

start_broker "$P"
up up 150 "$P" --exit-at-end
[ "$RC" = 0 ] || fail "streamrun up exited with status $RC"
echo "streamrun up: $SECS s"
mkdir -p "$WORK/out"
for t in SX SY SZ FA FI FD prediction sensor-errors; do
    kt read "$ADDR" "$t" "$WORK/out/$t.jsonl"
done
[ ! -s "$WORK/out/sensor-errors.jsonl" ] ||
    fail "records were dead-lettered: $(head -c 300 "$WORK/out/sensor-errors.jsonl")"
"$PYTHON" "$ROOT/tests/pipelines/sensor_features_reference.py" "$SENSORS" "$WORK/out" ||
    fail "the features are not the reference's"
"$PYTHON" "$ROOT/tests/pipelines/sensor_alerts_reference.py" "$SENSORS" "$WORK/out" ||
    fail "the predictions are not the reference's"
echo "PASS"
