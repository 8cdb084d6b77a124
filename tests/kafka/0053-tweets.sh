#!/usr/bin/env bash
# 0053 — tweets end to end: `streamrun up pipelines/tweets.yaml --exit-at-end` replays the sample
# tweets (pipelines/data/tweet-stream.jsonl: 33 valid, 6 invalid) into `tweets`, and the
# analyser scores each with two text models (sentiment, then one of 14 topics) into `results`.
# Every valid tweet must be there once, its fields kept, with the labels and probabilities
# scikit-learn gives (tests/pipelines/text_reference.py, which trains the models as
# pipelines/models/train_tweets.py does), and every invalid one on `errors` once with its
# reason: the line that is not JSON from the replay, the others (not an object; text missing,
# null or not a string) from the first model step.
source "$(dirname "$0")/lib.sh" "$@"
P=$ROOT/pipelines/tweets.yaml
"$PYTHON" -c 'import sklearn' 2>/dev/null || [ -n "${CI:-}${STREAMRUN_REQUIRE_SKLEARN:-}" ] || {
    echo "SKIP: $PYTHON cannot import sklearn: apt-get install python3-sklearn"
    exit 77
}

start_broker "$P"
up up 120 "$P" --exit-at-end
[ "$RC" = 0 ] || fail "streamrun up exited with status $RC"
echo "streamrun up: $SECS s"
expect_summary up tweet-replay 39 38 0 1 38
expect_summary up tweet-analyser 38 33 0 5 33
mkdir -p "$WORK/out"
for t in results errors; do
    kt read "$ADDR" "$t" "$WORK/out/$t.jsonl"
done
"$PYTHON" "$ROOT/tests/pipelines/text_reference.py" tweets "$ROOT/pipelines/data/tweet-stream.jsonl" \
    "$WORK/out" || fail "the results are not scikit-learn's"
echo "PASS"
