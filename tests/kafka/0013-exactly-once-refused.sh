#!/usr/bin/env bash
# 0013 — `processing: exactly-once` on the embedded broker: `validate` accepts the file; `up`
# refuses it, with no broker given (before starting the embedded one) and with --broker at a
# standalone embedded broker, exit 2 and the reason at the `processing:` line; a deployment of
# the same file that does not ask for it still runs (--only). It is about the embedded broker
# alone (on Apache Kafka, exactly-once runs), so it runs on that one only:
# brokers: embedded
source "$(dirname "$0")/lib.sh" "$@"

sed -e 's/^    consumerGroup: data-normalisation-v1$/&\n    processing: exactly-once/' "$PHONE" \
    >"$WORK/eos.yaml"
line=$(grep -n '^    processing: exactly-once$' "$WORK/eos.yaml" | cut -d: -f1)
[ -n "$line" ] || fail "cannot make the exactly-once copy of $PHONE"
export TELEMETRY_FILE=$TELEMETRY

"$STREAMRUN" validate "$WORK/eos.yaml" 2>"$WORK/validate.log" ||
    fail "validate refused the exactly-once file: $(cat "$WORK/validate.log")"

want="$WORK/eos.yaml:$line:17: error[SR0215]: deployment 'data-normalization' asks for processing: exactly-once, but the broker"
why="is the embedded broker (librdkafka's mock cluster), which does not honour transactions"

# refused: exit 2, the message at its place, nothing run
refused() {
    local log=$1
    [ "$RC" = 2 ] || fail "up with exactly-once on the embedded broker exited $RC, not 2"
    grep -qF "$want" "$WORK/$log.log" || fail "$log.log does not start the error with: $want"
    grep -qF "$why" "$WORK/$log.log" || fail "$log.log does not say why: $why"
    ! grep -q 'assigned\| in (' "$WORK/$log.log" || fail "$log.log: up ran a deployment"
    echo "$log: refused, exit 2"
}

RC=0
timeout 60 "$STREAMRUN" up "$WORK/eos.yaml" --exit-at-end 2>"$WORK/no-broker.log" || RC=$?
refused no-broker
! grep -q 'started the embedded broker' "$WORK/no-broker.log" ||
    fail "no-broker.log: the embedded broker was started before the refusal"

start_broker "$WORK/eos.yaml"
up standalone 60 "$WORK/eos.yaml" --exit-at-end
refused standalone
grep -qF "but the broker at $ADDR is the embedded broker" "$WORK/standalone.log" ||
    fail "standalone.log does not name the broker's address"

# the other deployment of the file asks for nothing: it runs
up replay 60 "$WORK/eos.yaml" --only raw-replay --exit-at-end
[ "$RC" = 0 ] || fail "up --only raw-replay exited $RC"
expect_summary replay raw-replay 200 200 0 0 200
echo "PASS"
