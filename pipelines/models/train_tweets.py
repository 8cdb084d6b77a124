#!/usr/bin/env python3
"""train_tweets.py — trains the two models of pipelines/tweets.yaml on pipelines/data/tweets.jsonl
(370 tweets written for this project, 26 or 27 per topic, each labelled with one of 14 topics
and a sentiment: {"text", "topic", "sentiment"}) and writes the packages tweet-sentiment
(positive, negative, neutral) and tweet-topics (the 14 topics) into pipelines/models (or DIR). Prints each one's
5-fold cross-validated accuracy. Small demonstration models, not production ones.

    python3 pipelines/models/train_tweets.py [DIR]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import textmodel  # noqa: E402

CORPUS = os.path.join(textmodel.ROOT, "pipelines", "data", "tweets.jsonl")
MODELS = os.path.join(textmodel.ROOT, "pipelines", "models")
PACKAGES = ["tweet-sentiment", "tweet-topics"]
LABELS = ["sentiment", "topic"]  # the corpus field each package is trained on


def corpus(field):
    rows = textmodel.read_jsonl(CORPUS)
    return [r["text"] for r in rows], [r[field] for r in rows]


def train_all():
    """The fitted models, in the order of PACKAGES."""
    return [textmodel.fit(*corpus(field)) for field in LABELS]


def main(argv):
    out = argv[0] if argv else MODELS
    for name, field, model in zip(PACKAGES, LABELS, train_all()):
        texts, labels = corpus(field)
        mean, std = textmodel.cv_accuracy(texts, labels)
        print("%s: %d tweets, %d classes; 5-fold cross-validated accuracy %.3f (± %.3f)"
              % (name, len(texts), len(set(labels)), mean, std))
        textmodel.export(model, os.path.join(out, name), "text")
        print("wrote %s" % os.path.join(out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
