#!/usr/bin/env python3
"""train_mood.py — trains the mood model of pipelines/sentiment.yaml on pipelines/data/moods.jsonl
(300 short messages written for this project, 60 per mood: anger, fear, joy, sadness, surprise;
{"clean_text", "mood"}) and writes the package mood into pipelines/models (or into DIR). Prints
the 5-fold cross-validated accuracy. A small demonstration model, not a production one.

    python3 pipelines/models/train_mood.py [DIR]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import textmodel  # noqa: E402

CORPUS = os.path.join(textmodel.ROOT, "pipelines", "data", "moods.jsonl")
MODELS = os.path.join(textmodel.ROOT, "pipelines", "models")


def corpus():
    rows = textmodel.read_jsonl(CORPUS)
    return [r["clean_text"] for r in rows], [r["mood"] for r in rows]


def train_all():
    """The fitted models, in the order of PACKAGES."""
    return [textmodel.fit(*corpus())]


PACKAGES = ["mood"]


def main(argv):
    out = os.path.join(argv[0] if argv else MODELS, "mood")
    texts, moods = corpus()
    mean, std = textmodel.cv_accuracy(texts, moods)
    print("mood: %d messages, %d moods; 5-fold cross-validated accuracy %.3f (± %.3f)"
          % (len(texts), len(set(moods)), mean, std))
    textmodel.export(train_all()[0], out, "clean_text")
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
