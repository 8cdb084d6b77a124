#!/usr/bin/env python3
"""State tests' data and expectations (tests/kafka/0024-0027, 0036), independent of the C code.

The inputs: record i (from 0) is {"n": i, "t": T0 + 10 i, "v": i % 7}, key k(i % 8), on partition
(i % 8) % P of `events` (P: STATE_PARTITIONS, 4 unless set); the end: one record per partition, keyed s<p>, 5 s of event time after
the last, which closes every window before it. The pipeline (written by the tests): `totals`, an
aggregate {count: count(), sum: sum(v)} per key, each record leaving with its key's totals; `win`,
tumbling 1 s windows of event time t (ms), {start, end, count, sum} per key, emitted when they
close."""
import argparse
import json
import os
import sys
from collections import Counter, defaultdict

# event times start at STATE_T0 (ms, a multiple of 1000): the test sets it to about now, as a
# window's output carries its end as timestamp, and a broker's retention deletes records that
# look older than retention.ms
T0 = int(os.environ.get("STATE_T0", "1000000"))
# the partitions of `events` (0036 uses 8: one key per partition)
PARTITIONS = int(os.environ.get("STATE_PARTITIONS", "4"))


def record(i):
    k = i % 8
    return {"key": "k%d" % k, "value": {"n": i, "t": T0 + 10 * i, "v": i % 7}, "partition": k % PARTITIONS}


def cmd_gen(a):
    with open(a.out, "w") as f:
        for i in range(a.first, a.first + a.n):
            f.write(json.dumps(record(i)) + "\n")
        if a.end:
            for p in range(PARTITIONS):
                f.write(json.dumps({"key": "s%d" % p,
                                    "value": {"n": -1, "t": T0 + 10 * a.end + 5000, "v": 0},
                                    "partition": p}) + "\n")


def inputs(paths):
    for path in paths:
        for ln in open(path):
            if ln.strip():
                yield json.loads(ln)


def cmd_expect(a):
    """The outputs of an uninterrupted run over the input files, in order: totals and windows
    as envelope lines (key, value)."""
    count, total = Counter(), Counter()
    wins = defaultdict(lambda: [0, 0])  # (key, start) -> [count, sum]
    stream = {}  # per partition: the largest event time
    with open(a.totals, "w") as out:
        for r in inputs(a.inputs):
            k, v = r["key"], r["value"]
            count[k] += 1
            total[k] += v["v"]
            out.write(json.dumps({"key": k, "value": dict(v, count=count[k], sum=total[k])}) + "\n")
            start = v["t"] // 1000 * 1000
            wins[(k, start, r["partition"])][0] += 1
            wins[(k, start, r["partition"])][1] += v["v"]
            stream[r["partition"]] = max(stream.get(r["partition"], 0), v["t"])
    with open(a.windows, "w") as out:
        for (k, start, p), (c, s) in sorted(wins.items()):
            if start + 1000 <= stream[p]:  # closed: stream time reached its end (grace 0)
                out.write(json.dumps({"key": k, "value": {"start": start, "end": start + 1000,
                                                          "count": c, "sum": s}}) + "\n")


def envelopes(path):
    return [json.loads(ln) for ln in open(path) if ln.strip()]


def cmd_check_alo(a):
    """At-least-once after kills: nothing lost. Each key's totals reached at least the expected
    final ones; every expected window was written with at least the expected count. Counts and
    prints what came more than once (records processed again after a kill)."""
    exp_t, got_t = envelopes(a.exp_totals), envelopes(a.got_totals)
    exp_w, got_w = envelopes(a.exp_windows), envelopes(a.got_windows)
    final = {}
    for r in exp_t:
        final[r["key"]] = r["value"]["count"]
    reached = Counter()
    for r in got_t:
        reached[r["key"]] = max(reached[r["key"]], r["value"]["count"])
    lost = [k for k, c in final.items() if reached[k] < c]
    over = [k for k, c in final.items() if reached[k] > c]  # records counted twice in state
    seen = defaultdict(list)
    for r in got_w:
        seen[(r["key"], r["value"]["start"])].append(r["value"]["count"])
    missing = [(r["key"], r["value"]["start"]) for r in exp_w
               if max(seen.get((r["key"], r["value"]["start"]), [0])) < r["value"]["count"]]
    print("at-least-once: totals %d records for %d expected (%d more), windows %d for %d "
          "expected (%d more); keys short of their totals: %s; keys past them (records "
          "counted twice after a crash): %s; windows missing: %s"
          % (len(got_t), len(exp_t), len(got_t) - len(exp_t), len(got_w), len(exp_w),
             len(got_w) - len(exp_w), lost[:5] or "none", over[:5] or "none",
             missing[:5] or "none"))
    if not exp_t or not exp_w:
        sys.exit("nothing expected")
    if lost or missing:
        sys.exit("FAIL: state was lost")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("gen")
    s.add_argument("out")
    s.add_argument("first", type=int)
    s.add_argument("n", type=int)
    s.add_argument("--end", type=int, help="add the end records, after record END - 1")
    s.set_defaults(fn=cmd_gen)
    s = sub.add_parser("expect")
    s.add_argument("totals")
    s.add_argument("windows")
    s.add_argument("inputs", nargs="+")
    s.set_defaults(fn=cmd_expect)
    s = sub.add_parser("check-alo")
    for n in ("exp_totals", "got_totals", "exp_windows", "got_windows"):
        s.add_argument(n)
    s.set_defaults(fn=cmd_check_alo)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
