#!/usr/bin/env bash
# 0049 — sensor-alerts' window and five-topic join state survive a SIGKILL mid-stream. The sample
# readings are replayed in two halves. Run 1 of the processing deployments (the window features,
# FA, FI, FD and the join with its prediction) processes the first half to the end and exits,
# committing its state. Run 2 restores the window's and the join's stores and is killed with
# SIGKILL while the second half is being replayed, having processed part of it without
# committing (--commit-interval 1h). Run 3 restores both stores again and processes the second
# half from the committed offsets: the last prediction of every client must be the one
# tests/pipelines/sensor_alerts_reference.py computes from all the readings.
source "$(dirname "$0")/lib.sh" "$@"
SENSORS=$ROOT/pipelines/data/sensors.jsonl
# a copy whose replay is paced at 400 readings/s under up; the readings from $SENSOR_FILE. The
# readings' times are of May 2024, which a broker's retention (7 days) deletes at its next check:
# the topics keep everything (retention.ms -1; the embedded broker applies no configs). The
# processing deployments with a 6 s session: on Apache Kafka the killed run's partitions move
# within the test's time, not after librdkafka's 45 s. The model package is the one in
# pipelines/models
sed -e 's#timestamp: time}#timestamp: time, rate: 400}#' \
    -e "s#:-data/sensors.jsonl#:-$SENSORS#" \
    -e 's#partitions: 100}#partitions: 100, config: {retention.ms: -1}}#' \
    -e 's#partitions: 100, shape:#partitions: 100, config: {retention.ms: -1}, shape:#' \
    -e 's#^    partitions: 100$#&\n    config: {retention.ms: -1}#' \
    -e "s#package: models/#package: $ROOT/pipelines/models/#" \
    -e 's#^  - name: \(z-features\|fa\|fi\|fd\|alerts\)$#&\n    kafka: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}#' \
    "$ROOT/pipelines/sensor-alerts.yaml" >"$WORK/sa.yaml"
grep -q 'rate: 400' "$WORK/sa.yaml" && [ "$(grep -c 'retention.ms: -1' "$WORK/sa.yaml")" = 8 ] &&
    [ "$(grep -c 'session.timeout.ms: 6000' "$WORK/sa.yaml")" = 5 ] &&
    grep -q "package: $ROOT/pipelines/models/sensor-alerts" "$WORK/sa.yaml" ||
    fail "cannot make the test's copy of sensor-alerts.yaml"
half=$(($(wc -l <"$SENSORS") / 2))
head -n "$half" "$SENSORS" >"$WORK/sensors-a.jsonl"
tail -n +"$((half + 1))" "$SENSORS" >"$WORK/sensors-b.jsonl"
PROCESSING=(--only z-features --only fa --only fi --only fd --only alerts)

start_broker "$WORK/sa.yaml"
SENSOR_FILE=$WORK/sensors-a.jsonl up replay-a 120 "$WORK/sa.yaml" --only sensor-replay --exit-at-end
[ "$RC" = 0 ] || fail "the replay of the first half exited with status $RC"
up run1 120 "$WORK/sa.yaml" "${PROCESSING[@]}" --exit-at-end
[ "$RC" = 0 ] || fail "run 1 exited with status $RC"
n1=$(kt wait "$ADDR" prediction 0 --isolation read_uncommitted | awk '{print $3}')
echo "run 1 made $n1 predictions from the first half and exited"

restored_both() {
    grep -q "restored store 'z-features'" "$WORK/$1.log" &&
        grep -q "restored store 'latest-features'" "$WORK/$1.log"
}
up_bg run2 120 "$WORK/sa.yaml" "${PROCESSING[@]}" --commit-interval 1h
pid=$UP_PID
for _ in $(seq 300); do
    restored_both run2 && break
    running "$pid" || fail "run 2 exited: $(tail -3 "$WORK/run2.log")"
    sleep 0.1
done
restored_both run2 || fail "run 2 did not restore both stores in 30 s: $(grep -c restored "$WORK/run2.log")"
SENSOR_FILE=$WORK/sensors-b.jsonl timeout -k 10 120 "$STREAMRUN" up "$WORK/sa.yaml" \
    --only sensor-replay --exit-at-end --broker "$ADDR" 2>"$WORK/replay-b.log" &
replay_pid=$!
kt wait "$ADDR" prediction $((n1 + 100)) --isolation read_uncommitted --timeout 60 >/dev/null
running "$pid" || fail "run 2 exited: $(tail -3 "$WORK/run2.log")"
kill -KILL "$(pgrep -P "$pid")"
{ wait "$pid" || true; } 2>/dev/null
echo "run 2 restored both stores, made 100 or more predictions from the second half, and was killed"
wait "$replay_pid" || fail "the replay of the second half failed: $(tail -3 "$WORK/replay-b.log")"
up run3 120 "$WORK/sa.yaml" "${PROCESSING[@]}" --exit-at-end
[ "$RC" = 0 ] || fail "run 3 exited with status $RC"
restored_both run3 || fail "run 3 did not restore both stores"
grep -E "^(z-features|alerts): " "$WORK/run3.log" | sed 's/^/  /'
mkdir -p "$WORK/out"
kt read "$ADDR" prediction "$WORK/out/prediction.jsonl"
"$PYTHON" "$ROOT/tests/pipelines/sensor_alerts_reference.py" "$SENSORS" "$WORK/out" ||
    fail "the last predictions are not the reference's"
echo "PASS"
