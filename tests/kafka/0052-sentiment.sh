#!/usr/bin/env bash
# 0052 — sentiment end to end: `streamrun up pipelines/sentiment.yaml --exit-at-end` replays the
# sample messages (pipelines/data/messages.jsonl: 36 valid, 6 invalid) into `messages` and scores
# them with the mood model (a text classifier) into `predictions`. Every valid message must be
# there once with the label and probabilities scikit-learn gives (tests/pipelines/
# text_reference.py, which trains the model as pipelines/models/train_mood.py does), and every
# invalid one on `errors` once with its reason: the line that is not JSON from the replay, the
# others (not an object; clean_text missing, null or not a string) from the model step.
source "$(dirname "$0")/lib.sh" "$@"
P=$ROOT/pipelines/sentiment.yaml
"$PYTHON" -c 'import sklearn' 2>/dev/null || [ -n "${CI:-}${STREAMRUN_REQUIRE_SKLEARN:-}" ] || {
    echo "SKIP: $PYTHON cannot import sklearn: apt-get install python3-sklearn"
    exit 77
}

start_broker "$P"
up up 120 "$P" --exit-at-end
[ "$RC" = 0 ] || fail "streamrun up exited with status $RC"
echo "streamrun up: $SECS s"
expect_summary up message-replay 42 41 0 1 41
expect_summary up mood 41 36 0 5 36
mkdir -p "$WORK/out"
for t in predictions errors; do
    kt read "$ADDR" "$t" "$WORK/out/$t.jsonl"
done
"$PYTHON" "$ROOT/tests/pipelines/text_reference.py" sentiment "$ROOT/pipelines/data/messages.jsonl" \
    "$WORK/out" || fail "the predictions are not scikit-learn's"
echo "PASS"
