#!/usr/bin/env python3
"""Reference for pipelines/sensor-alerts.yaml, written from its header comment, independently of
the C code (the window features come from sensor_features_reference.py, itself independent).

Per client, once SX, SY, FA, FI and FD all have a record, every record on any of them gives a
prediction from the latest of each:
  x = bucket(SX value, 0, 100, 10), y = bucket(SY value, 0, 100, 10), fa, fi, fd the buckets,
  probability = 1 / (1 + exp(-(coef . (x, y, fa, fi, fd) + intercept))), the logistic regression
  of pipelines/models/sensor-alerts/model.json (read here, scored with Python's math, not by
  streamrun), decision = probability >= 0.6
Probabilities are compared within 1e-12 (the sum's order may differ by an ulp); a decision must
be the reference's except within 1e-12 of 0.6.
The order in which the five topics' records meet is not specified (they are five topics), so
what is checked is:
  - every prediction is consistent in itself (probability and decision from its own features,
    its key its client);
  - the last prediction per client is the one from the last record per client of each topic,
    for every client, and there is none for any other key.

usage: sensor_alerts_reference.py SENSORS.jsonl OUTDIR [--corrupt]
  OUTDIR holds prediction.jsonl (`streamrun run ... --out OUTDIR --envelope`, or what a Kafka
  test read). --corrupt changes one expected value; the comparison must fail on it.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sensor_features_reference import bucket, expected  # noqa: E402

FIELDS = ["client", "time", "x", "y", "fa", "fi", "fd", "probability", "decision"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "pipelines", "models", "sensor-alerts")
THRESHOLD = 0.6
TOL = 1e-12


def load_model():
    with open(os.path.join(PACKAGE, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    with open(os.path.join(PACKAGE, "model.json"), encoding="utf-8") as f:
        model = json.load(f)
    assert list(config["input_schema"]) == ["x", "y", "fa", "fi", "fd"], config
    assert config["output_labels"] == {"0": "normal", "1": "alert"}, config
    assert model["kind"] == "logistic_regression" and len(model["coef"]) == 1, model
    return model["coef"][0], model["intercept"][0]


COEF, INTERCEPT = load_model()


def score(x, y, fa, fi, fd):
    d = INTERCEPT + sum(c * v for c, v in zip(COEF, (x, y, fa, fi, fd)))
    p = 1.0 / (1.0 + math.exp(-d))
    return p, p >= THRESHOLD


def same(got, want):
    """A prediction equal to the reference's: probability within TOL, the rest exactly."""
    if set(got) != set(want) or abs(got["probability"] - want["probability"]) > TOL:
        return False
    if abs(want["probability"] - THRESHOLD) > TOL and got["decision"] != want["decision"]:
        return False
    return all(got[k] == want[k] for k in want if k not in ("probability", "decision"))


def final(path):
    exp = expected(path)
    last = {t: {} for t in exp}
    for t, recs in exp.items():
        for r in recs:
            if t in ("SX", "SY", "SZ"):
                last[t][r["client"]] = r
            else:
                last[t][r["key"]] = r["value"]
    out = {}
    for c in last["FA"]:
        if c not in last["SX"] or c not in last["SY"]:
            continue
        sx, sy, fa, fi, fd = (last[t][c] for t in ("SX", "SY", "FA", "FI", "FD"))
        v = {"client": c, "time": max(fa["time"], sx["time"], sy["time"]),
             "x": bucket(sx["value"], 0, 100), "y": bucket(sy["value"], 0, 100),
             "fa": fa["bucket"], "fi": fi["bucket"], "fd": fd["bucket"]}
        v["probability"], v["decision"] = score(v["x"], v["y"], v["fa"], v["fi"], v["fd"])
        out[c] = v
    return out


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    want = final(path)
    if "--corrupt" in sys.argv:
        c = sorted(want)[0]
        want[c]["fi"] += 1
    got = [json.loads(line) for line in open(os.path.join(outdir, "prediction.jsonl"),
                                             encoding="utf-8") if line.strip()]
    problems = []
    last = {}
    for i, r in enumerate(got):
        v = r["value"]
        if list(v) != FIELDS:
            problems.append("prediction %d: fields %s, expected %s" % (i, list(v), FIELDS))
            continue
        if v["client"] != r["key"]:
            problems.append("prediction %d: key %r, client %r" % (i, r["key"], v["client"]))
        p, d = score(v["x"], v["y"], v["fa"], v["fi"], v["fd"])
        if not same(v, dict(v, probability=p, decision=d)):
            problems.append("prediction %d: probability %r, decision %r; its features give %r, %r"
                            % (i, v["probability"], v["decision"], p, d))
        last[r["key"]] = v
    for c in sorted(set(want) | set(last)):
        if c not in last:
            problems.append("no prediction for %s; expected %s" % (c, json.dumps(want[c])))
        elif c not in want:
            problems.append("unexpected prediction for %r: %s" % (c, json.dumps(last[c])))
        elif not same(last[c], want[c]):
            problems.append("%s: the last prediction is %s\n  expected %s"
                            % (c, json.dumps(last[c]), json.dumps(want[c])))
    for p in problems[:20]:
        print(p)
    if problems:
        print("%d problems (%d clients, %d predictions)" % (len(problems), len(want), len(got)))
        return 1
    alerts = sum(v["decision"] for v in want.values())
    print("ok: the last prediction of each of %d clients (%d with decision true), %d predictions"
          % (len(want), alerts, len(got)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
