#!/usr/bin/env python3
"""Sliding windows over random streams: out of order, several keys, records of one time, late
records, every aggregate, emit final and update, sizes and graces from 1 ms to seconds. Each
stream runs through `streamrun run` and is compared with the reference's Sliding class
(windows_reference.py, written from the README independently of the C code).

usage: sliding_random.py STREAMRUN OUTDIR [SEEDS] [--corrupt]
--corrupt changes one expected value of the first stream: the run then succeeds only when the
comparison reports that stream, and that stream alone.
"""
import json
import math
import os
import random
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from windows_reference import Sliding, integral, same  # noqa: E402

TOPOLOGY = """topics: [in, out, errors]
deployments:
  - name: sliding
    input: in
    deadLetter: errors
    pipeline:
      - window:
          type: sliding
          size: %dms
          grace: %dms
          emit: %s
          aggregate:
            n: count()
            s: sum(x)
            avg: mean(x)
            lo: min(x)
            hi: max(x)
            f: first(x)
            l: last(x)
            sd: stddev(x)
            area: integral(x)
            d: delta(x)
            xs: collect(x)
    output: out
"""


def result(pts):  # pts: (t, x) in (time, arrival) order
    xs = [x for _, x in pts]
    return {"n": len(xs), "s": sum(xs) if all(isinstance(x, int) for x in xs) else math.fsum(xs),
            "avg": math.fsum(xs) / len(xs), "lo": min(xs), "hi": max(xs), "f": xs[0],
            "l": xs[-1], "sd": statistics.stdev(xs) if len(xs) > 1 else None,
            "area": integral(pts), "d": xs[-1] - xs[0], "xs": xs}


def stream(rng, size):
    keys = ["k%d" % i for i in range(rng.randint(1, 4))]
    t, out = rng.randrange(0, 3 * size + 5), []
    for _ in range(rng.randint(20, 150)):
        t += rng.choice((0, 0, 1, rng.randrange(0, size + 2), rng.randrange(0, 3 * size + 3)))
        u = t
        if rng.random() < 0.25:  # out of order, sometimes past the grace
            u = max(0, t - rng.randrange(0, 2 * size + 3))
        x = rng.randint(-50, 50) if rng.random() < 0.6 else round(rng.uniform(-50, 50), 3)
        out.append((rng.choice(keys), u, x))
    return out


def read(path):
    """The records of a topic (no file: none)."""
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def main():
    binary, outdir = sys.argv[1], sys.argv[2]
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 40
    os.makedirs(outdir, exist_ok=True)
    bad = checked = late = 0
    bad_seeds = []
    for seed in range(seeds):
        rng = random.Random(seed)
        size = rng.choice((1, 3, 50, 1000))
        grace = rng.choice((0, 0, 2, 100, 2000))
        emit = rng.choice(("final", "update"))
        recs = stream(rng, size)
        d = os.path.join(outdir, "s%d" % seed)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "t.yaml"), "w") as f:
            f.write(TOPOLOGY % (size, grace, emit))
        with open(os.path.join(d, "in.jsonl"), "w") as f:
            for k, u, x in recs:
                f.write(json.dumps({"key": k, "timestamp": u, "value": {"x": x}}) + "\n")
        subprocess.run([binary, "run", os.path.join(d, "t.yaml"), "--in",
                        "in=" + os.path.join(d, "in.jsonl"), "--out", os.path.join(d, "out"),
                        "--envelope", "--quiet"], check=True)
        ref = Sliding(size, grace, result, emit=emit)
        for off, (k, u, x) in enumerate(recs):
            ref.add(k, u, x, off)
        want = sorted(ref.out, key=lambda o: o["key"])  # keys closing together: unspecified
        if seed == 0 and "--corrupt" in sys.argv:
            want[1]["value"]["n"] += 1
        got = read(os.path.join(d, "out", "out.jsonl"))
        got = sorted(({"key": g["key"], "timestamp": g["timestamp"], "value": g["value"]}
                      for g in got), key=lambda o: o["key"])
        errs = read(os.path.join(d, "out", "errors.jsonl"))
        got_late = [(e["key"], int(e["headers"]["streamrun.source.offset"]),
                     e["headers"]["streamrun.error"]) for e in errs]
        what = "seed %d (size %d, grace %d, emit %s, %d records)" % (seed, size, grace, emit,
                                                                      len(recs))
        if len(got) != len(want) or not all(same(w, g) for w, g in zip(want, got)):
            bad += 1
            bad_seeds.append(seed)
            print("%s: windows differ" % what)
            for i, (w, g) in enumerate(zip(want, got)):
                if not same(w, g):
                    print("  record %d:\n  expected %s\n  got      %s" % (i, json.dumps(w),
                                                                         json.dumps(g)))
                    break
            else:
                print("  %d windows, expected %d" % (len(got), len(want)))
        elif got_late != ref.late:
            bad += 1
            bad_seeds.append(seed)
            print("%s: late records differ:\n  expected %s\n  got      %s" % (what, ref.late,
                                                                            got_late))
        checked += len(want)
        late += len(ref.late)
    print("%d streams, %d windows and %d late records checked, %d differ" % (seeds, checked,
                                                                            late, bad))
    if late == 0:
        print("no late record: the test would not see lateness")
        bad += 1
    if "--corrupt" in sys.argv:
        ok = bad_seeds == [0]
        print("the changed expectation was %sreported" % ("" if ok else "not "))
        return 0 if ok else 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
