#!/usr/bin/env python3
"""Reference for windows and aggregates (runner/state/): random cases with expected results.

Written from the semantics in the README ("Windows and aggregates (semantics)"), independently
of the C code: plain Python, exact integers and fractions, math.fsum and statistics.stdev. Prints one JSON
case per line; tests/state/state_check.c computes each with runner/state/ and compares.

usage: reference.py SEED COUNT [--corrupt]
--corrupt changes one expected result, so that the checker's failure can be seen to work.
"""
import json
import math
import random
import statistics
import sys
from fractions import Fraction

INT64_MAX = 2**63 - 1


# ---- windows -------------------------------------------------------------------------------

def windows_of(t, size, step):
    """[s, s + size) with s a multiple of step, s >= 0, s <= t < s + size; None if refused."""
    if t < 0 or size < 1 or step < 1:
        return None
    k_lo = max(0, -(-(t - size + 1) // step))  # ceil, and no start below 0
    k_hi = t // step
    out = [[k * step, k * step + size] for k in range(k_lo, k_hi + 1)]
    if out and out[-1][1] > INT64_MAX:
        return None
    return out


def sessions_of(times, gap):
    """Sessions of all the times: sorted times split where two neighbours are > gap apart."""
    out = []
    for t in sorted(times):
        if out and t - (out[-1][1] - 1) <= gap:
            out[-1][1] = max(out[-1][1], t + 1)
        else:
            out.append([t, t + 1])
    return out


def late_by(close, stream_time):
    return stream_time - close + 1 if stream_time >= close else 0


# ---- aggregates ----------------------------------------------------------------------------

NUMERIC = {"sum", "mean", "stddev", "integral", "delta"}


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def fits(i):
    return -(2**63) <= i <= INT64_MAX


def exact_sum(xs):
    """The sum of ints and floats, exact, rounded once (math.fsum would round each int)."""
    return float(sum(Fraction(x) for x in xs))


class Acc:
    """An aggregate over the values it accepted: (x, t, seq) in arrival order."""

    def __init__(self, kind, limit):
        self.kind, self.limit, self.pts = kind, limit, []

    def int_sum(self, pts):
        return sum(x for x, _, _ in pts if isinstance(x, int))

    def refuse(self, x, t, seq):
        """The reason x would be refused, or None."""
        k = self.kind
        if k in NUMERIC and not is_num(x):
            return "not a number"
        if k in ("sum", "mean") and isinstance(x, int) and not fits(self.int_sum(self.pts) + x):
            return "integer overflow"
        if k in ("min", "max"):
            if not (is_num(x) or isinstance(x, str)):
                return "type"
            if self.pts and is_num(self.pts[0][0]) != is_num(x):
                return "mixed"
        if k == "collect" and len(self.pts) >= self.limit:
            return "limit"
        if k == "merge" and not isinstance(x, dict):
            return "not an object"
        if k == "integral" and self.pts:
            keys = [(pt, ps) for _, pt, ps in self.pts]
            if min(keys) < (t, seq) < max(keys):
                return "out of order"
        return None

    def add(self, x, t, seq):
        if x is None:
            return True
        if self.refuse(x, t, seq):
            return False
        self.pts.append((x, t, seq))
        return True

    def merged(self, other):
        """The accumulator of both, or None when the merge is refused."""
        k = self.kind
        if k in ("sum", "mean") and not fits(self.int_sum(self.pts) + other.int_sum(other.pts)):
            return None
        if k in ("min", "max") and self.pts and other.pts:
            if is_num(self.pts[0][0]) != is_num(other.pts[0][0]):
                return None
        if k == "collect" and len(self.pts) + len(other.pts) > self.limit:
            return None
        if k == "integral" and self.pts and other.pts:
            a = sorted((t, s) for _, t, s in self.pts)
            b = sorted((t, s) for _, t, s in other.pts)
            if not (a[-1] < b[0] or b[-1] < a[0]):
                return None
        m = Acc(k, self.limit)
        m.pts = self.pts + other.pts
        return m

    def result(self):
        k, pts = self.kind, self.pts
        xs = [x for x, _, _ in pts]
        by_time = sorted(pts, key=lambda p: (p[1], p[2]))
        if k == "count":
            return len(pts)
        if k == "sum":
            if all(isinstance(x, int) for x in xs):
                return sum(xs)
            return exact_sum(xs)
        if k == "mean":
            if not xs:
                return None
            return float(sum(Fraction(x) for x in xs) / len(xs))
        if k in ("min", "max"):
            if not xs:
                return None
            return (min if k == "min" else max)(xs)  # the first of equal values
        if k in ("first", "last"):
            if not pts:
                return None
            return by_time[0][0] if k == "first" else by_time[-1][0]
        if k == "stddev":
            return statistics.stdev(xs) if len(xs) >= 2 else None
        if k == "collect":
            return [x for x, _, _ in by_time]
        if k == "merge":
            out = {}
            for x, _, _ in by_time:
                out.update(x)  # later (t, seq) wins; new keys keep their first place
            return out
        if k == "integral":
            if not pts:
                return None
            area = [(float(x0) + float(x1)) * float(t1 - t0) / 2000.0
                    for (x0, t0, _), (x1, t1, _) in zip(by_time, by_time[1:])]
            return math.fsum(area)
        if k == "delta":
            if not pts:
                return None
            d = by_time[-1][0] - by_time[0][0]
            if isinstance(d, int) and not fits(d):
                d = float(by_time[-1][0]) - float(by_time[0][0])
            return d
        raise ValueError(k)


def bucket(x, lo, hi, n):
    i = math.floor((Fraction(x) - Fraction(lo)) * n / (Fraction(hi) - Fraction(lo)))
    return min(max(i, 0), n - 1)


# ---- random cases --------------------------------------------------------------------------

def rand_time(r):
    c = r.random()
    if c < 0.4:
        return r.randrange(0, 200)
    if c < 0.8:
        return r.randrange(0, 2 * 10**12)
    return INT64_MAX - r.randrange(0, 200)


def rand_value(r, kind):
    c = r.random()
    if c < 0.05:
        return None
    if c < 0.08:
        return "s%d" % r.randrange(100) if kind != "merge" else r.randrange(5)  # wrong types
    if kind == "merge":
        return {r.choice("abcdef"): r.choice([r.randrange(-50, 50), "v%d" % r.randrange(9),
                                              None, [1, 2]]) for _ in range(r.randrange(1, 4))}
    if kind in ("min", "max") and c < 0.3:
        return "s%03d" % r.randrange(1000)
    if kind in ("first", "last", "collect") and c < 0.3:
        return r.choice(["x", {"k": r.randrange(9)}, [r.random()], True])
    if c < 0.55:
        return r.randrange(-1000, 1000)
    if c < 0.58:
        return r.choice([INT64_MAX - r.randrange(3), -INT64_MAX + r.randrange(3)])
    return r.uniform(-1000, 1000)


KINDS = ["count", "sum", "mean", "min", "max", "first", "last", "stddev", "collect", "merge",
         "integral", "delta"]


def case_agg(r):
    kind = r.choice(KINDS)
    limit = r.randrange(1, 12)
    n = r.randrange(0, 25)
    t, pts = r.randrange(0, 10**6), []
    in_order = r.random() < 0.5
    for seq in range(n):
        t = t + r.randrange(0, 1500) if in_order else r.randrange(0, 10**6)
        pts.append([rand_value(r, kind), t, seq * 3 + 1])
    whole = Acc(kind, limit)
    refused = [i for i, (x, t, s) in enumerate(pts) if not whole.add(x, t, s)]
    split = r.randrange(0, n + 1)
    a, b = Acc(kind, limit), Acc(kind, limit)
    for x, t, s in pts[:split]:
        a.add(x, t, s)
    for x, t, s in pts[split:]:
        b.add(x, t, s)
    m = a.merged(b)
    return {"case": "agg", "agg": kind, "limit": limit, "points": pts, "refused": refused,
            "expect": whole.result(), "split": split,
            "merge": {"error": True} if m is None else {"expect": m.result()}}


def case_windows(r):
    size = r.choice([1, 2, 3, 5, 10, 1000, r.randrange(1, 100)])
    step = r.choice([size, size, 1, 2, 3, 7, r.randrange(1, 150)])
    t = rand_time(r)
    if r.random() < 0.05:
        t = -r.randrange(1, 100)
    w = windows_of(t, size, step)
    return {"case": "windows", "t": t, "size": size, "step": step,
            "expect": "error" if w is None else w}


def case_sessions(r):
    gap = r.randrange(0, 50)
    times = [r.randrange(0, 500) for _ in range(r.randrange(1, 30))]
    return {"case": "sessions", "gap": gap, "times": times, "expect": sessions_of(times, gap)}


def case_late(r):
    size = r.randrange(1, 60)
    step = r.choice([size, r.randrange(1, 60)])
    grace = r.randrange(0, 30)
    times = [r.randrange(0, 400) for _ in range(r.randrange(1, 30))]
    st, expect = -1, []
    for t in times:
        st = max(st, t)
        expect.append([[s, e, late_by(e + grace, st)] for s, e in windows_of(t, size, step)])
    return {"case": "late", "size": size, "step": step, "grace": grace, "times": times,
            "expect": expect}


def case_sliding(r):
    size = r.randrange(0, 100)
    recs = [[r.randrange(0, 400), r.randrange(-100, 100)] for _ in range(r.randrange(1, 30))]
    expect = []
    for t, _ in recs:
        inside = [x for u, x in recs if t - size <= u <= t]
        expect.append([max(0, t - size), t + 1, len(inside), sum(inside)])
    return {"case": "sliding", "size": size, "records": recs, "expect": expect}


def case_windowed(r):
    size = r.randrange(1, 100)
    step = r.choice([size, r.randrange(1, 120)])
    recs = [[r.randrange(0, 600), r.choice([r.randrange(-100, 100), r.uniform(-100, 100)])]
            for _ in range(r.randrange(1, 40))]
    wins = {}
    for seq, (t, x) in enumerate(recs):
        for s, e in windows_of(t, size, step):
            wins.setdefault((s, e), []).append(x)
    expect = []
    for (s, e), xs in sorted(wins.items()):
        total = sum(xs) if all(isinstance(x, int) for x in xs) else exact_sum(xs)
        expect.append([s, e, {"count": len(xs), "sum": total,
                              "mean": float(sum(Fraction(x) for x in xs) / len(xs)),
                              "min": min(xs), "max": max(xs)}])
    return {"case": "windowed", "size": size, "step": step, "records": recs, "expect": expect}


def case_bucket(r):
    lo = r.choice([r.randrange(-100, 100), r.uniform(-100, 100)])
    hi = lo + r.choice([r.randrange(1, 200), r.uniform(0.001, 200)])
    x = r.choice([r.randrange(-300, 300), r.uniform(lo - 50, hi + 50), lo, hi])
    n = r.randrange(1, 20)
    return {"case": "bucket", "x": x, "lo": lo, "hi": hi, "n": n, "expect": bucket(x, lo, hi, n)}


MAKERS = [case_agg] * 6 + [case_windows, case_sessions, case_late, case_sliding, case_windowed,
                           case_bucket]


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    corrupt = "--corrupt" in sys.argv[3:]
    r = random.Random(seed)
    for i in range(count):
        c = r.choice(MAKERS)(r)
        if corrupt and i == count // 2:
            c = case_agg(r)
            while c["agg"] != "count" or c["expect"] == 0:
                c = case_agg(r)
            c["expect"] += 1
        print(json.dumps(c, separators=(",", ":")))


if __name__ == "__main__":
    main()
