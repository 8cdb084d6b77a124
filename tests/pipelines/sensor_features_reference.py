#!/usr/bin/env python3
"""Reference for pipelines/sensor-features.yaml, written from its header comment and the README
(sliding windows, mean, integral, delta, bucket), independently of the C code.

For every client, each z reading at time t gets the window of that client's z readings u with
t - 10 min <= u <= t, among those that have arrived; a reading that arrives late (but within
the 30 s grace, as every late reading of the generated data is) also changes the windows of the
client's readings already there after it and within 10 minutes, and each of those is written
again after its own (emit: update), in time order. Features:
  mean      the plain mean of the values
  integral  the trapezoid area through (time, value) sorted by time (then arrival), value x s
  delta     the last value minus the first, in that order
  bucket    floor((x - lo) * 10 / (hi - lo)), clamped to 0..9, over mean [0, 100),
            integral [0, 60000), delta [-50, 50)

usage: sensor_features_reference.py SENSORS.jsonl OUTDIR [--corrupt]
  OUTDIR is what `streamrun run pipelines/sensor-features.yaml --out OUTDIR --envelope` wrote.
  --corrupt changes one expected value, so that the comparison's failure can be seen to work.
"""
import json
import math
import sys

SIZE, GRACE = 600_000, 30_000
RANGES = {"FA": ("mean", 0, 100), "FI": ("integral", 0, 60000), "FD": ("delta", -50, 50)}


def bucket(x, lo, hi, n=10):
    return min(n - 1, max(0, math.floor((x - lo) * n / (hi - lo))))


def features(points):
    """points: (time, arrival, value) of one window."""
    pts = sorted(points)
    xs = [v for _, _, v in pts]
    area = math.fsum((a[2] + b[2]) / 2 * (b[0] - a[0]) / 1000 for a, b in zip(pts, pts[1:]))
    return {"mean": math.fsum(xs) / len(xs), "integral": area, "delta": xs[-1] - xs[0]}


def expected(path):
    readings = [json.loads(line) for line in open(path, encoding="utf-8")]
    by_sensor = {"x": [], "y": [], "z": []}
    for r in readings:
        by_sensor[r["sensor"]].append(r)
    exp = {"SX": by_sensor["x"], "SY": by_sensor["y"], "SZ": by_sensor["z"]}
    seen = {}  # client -> [(time, arrival, value)]
    newest = -1
    out = {"FA": [], "FI": [], "FD": []}
    for arrival, r in enumerate(by_sensor["z"]):
        c, t = r["client"], r["time"]
        newest = max(newest, t)
        assert newest < t + 1 + GRACE, "the data has a reading later than the grace"
        mine = seen.setdefault(c, [])
        mine.append((t, arrival, r["value"]))
        for e in sorted({t} | {u for u, _, _ in mine if t < u <= t + SIZE}):
            f = features([p for p in mine if e - SIZE <= p[0] <= e])
            for topic, (name, lo, hi) in RANGES.items():
                out[topic].append({"key": c, "value": {"time": e, name: f[name],
                                                       "bucket": bucket(f[name], lo, hi)}})
    exp.update(out)
    return exp


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float)) and
                math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    exp = expected(path)
    if "--corrupt" in sys.argv:
        exp["FI"][100]["value"]["integral"] += 1e-6
    bad = 0
    for topic, want in exp.items():
        got = [json.loads(line) for line in open("%s/%s.jsonl" % (outdir, topic), encoding="utf-8")]
        if topic in RANGES:
            got = [{"key": g["key"], "value": g["value"]} for g in got]
        else:
            got = [g["value"] for g in got]
        # 100 partitions: records of different clients interleave in no specified order; each
        # client's are in order (a stable sort by client)
        key = (lambda o: o["key"]) if topic in RANGES else (lambda o: o["client"])
        got.sort(key=key)
        want = sorted(want, key=key)
        if len(got) != len(want):
            print("%s: %d records, expected %d" % (topic, len(got), len(want)))
            bad += 1
            continue
        for i, (g, w) in enumerate(zip(got, want)):
            if not same(w, g):
                print("%s record %d:\n  expected %s\n  got      %s" % (topic, i, json.dumps(w),
                                                                     json.dumps(g)))
                bad += 1
                break
        else:
            print("%s: %d records match" % (topic, len(want)))
    updates = len(exp["FA"]) - len(exp["SZ"])
    if updates <= 0:
        print("no reading arrived late into a later reading's window: the test would not see it")
        bad += 1
    buckets = {o["value"]["bucket"] for t in RANGES for o in exp[t]}
    if len(buckets) < 5:
        print("the features fall in only %d buckets: the ranges would not be tested" % len(buckets))
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
