#!/usr/bin/env python3
"""Reference for pipelines/sensor-alerts.yaml, written from its header comment, independently of
the C code (the window features come from sensor_features_reference.py, itself independent).

Per client, once SX, SY, FA, FI and FD all have a record, every record on any of them gives a
prediction from the latest of each:
  x = bucket(SX value, 0, 100, 10), y = bucket(SY value, 0, 100, 10), fa, fi, fd the buckets,
  probability = (x + y + 2 fa + 3 fi + 3 fd) / 90, decision = probability >= 0.6
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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sensor_features_reference import bucket, expected  # noqa: E402

FIELDS = ["client", "time", "x", "y", "fa", "fi", "fd", "probability", "decision"]


def score(x, y, fa, fi, fd):
    p = (x + y + 2 * fa + 3 * fi + 3 * fd) / 90
    return p, p >= 0.6


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
        if (v["probability"], v["decision"]) != (p, d):
            problems.append("prediction %d: probability %r, decision %r; its features give %r, %r"
                            % (i, v["probability"], v["decision"], p, d))
        last[r["key"]] = v
    for c in sorted(set(want) | set(last)):
        if c not in last:
            problems.append("no prediction for %s; expected %s" % (c, json.dumps(want[c])))
        elif c not in want:
            problems.append("unexpected prediction for %r: %s" % (c, json.dumps(last[c])))
        elif last[c] != want[c]:
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
