#!/usr/bin/env python3
"""Reference for the window and aggregate steps of tests/state/windows.yaml over the telemetry.

Written from the README ("Operators": window, aggregate; "Windows and aggregates (semantics)"),
independently of the C code, in plain Python: it computes what each topic of windows.yaml must
hold and compares it with what `streamrun run windows.yaml --out DIR --envelope` wrote to DIR.

usage: windows_reference.py TELEMETRY.jsonl OUTDIR [--corrupt]
       windows_reference.py TELEMETRY.jsonl OUTDIR --example
--corrupt changes one expected value, so that the comparison's failure can be seen to work;
--example checks the outputs of pipelines/phone-windows.yaml instead (its odometer,
tumbling-mean, hopping-mean and normalized topics).
"""
import json
import math
import statistics
import sys


def rows_of(path):
    """The rows deployment: every payload element pivoted, keyed by the message's device."""
    for line in open(path, encoding="utf-8"):
        msg = json.loads(line)
        for el in msg["payload"]:
            row = {"time": el["time"]}
            for k, v in el["values"].items():
                row[el["name"] + "-" + k] = v
            yield msg["deviceId"], row


def ms(ns):
    return ns // 10**6  # unit: ns, floor, exact for integers


class Windows:
    """Time windows of one step: open windows in creation order, closed when stream time
    reaches end + grace; a record whose windows are all closed is late."""

    def __init__(self, size, step, grace, result, emit="final"):
        self.size, self.step, self.grace, self.result, self.emit = size, step, grace, result, emit
        self.open = {}  # (key, start) -> list of (t, value)
        self.stream = -1
        self.out, self.late = [], []

    def add(self, key, t, x, offset):
        self.stream = max(self.stream, t)
        # the multiples of step in (t - size, t], none below 0
        lowest = max(0, t - self.size + 1)
        first = -(-lowest // self.step) * self.step
        starts = list(range(first, t + 1, self.step))
        live = [s for s in starts if self.stream < s + self.size + self.grace]
        if not live:
            s = starts[-1]
            close = s + self.size + self.grace
            self.late.append((key, offset,
                              "late: the record's event time %d is in the window [%d, %d), closed "
                              "since stream time reached %d (its end + grace %d ms); %d ms late"
                              % (t, s, s + self.size, close, self.grace, self.stream - close + 1)))
        for s in live:
            self.open.setdefault((key, s), []).append((t, x))
            if self.emit == "update":
                self.write(key, s)
        for (k, s) in list(self.open):  # after the record: the windows that closed
            if self.stream >= s + self.size + self.grace:
                if self.emit == "final":
                    self.write(k, s)
                del self.open[(k, s)]

    def write(self, key, s):
        v = {"start": s, "end": s + self.size}
        v.update(self.result(self.open[(key, s)]))
        self.out.append({"key": key, "timestamp": s + self.size - 1, "value": v})


class Sessions:
    """Session windows of one step, per key: a record at t joins every open session of its key
    with first - gap <= t <= last + gap (merging them); a session closes when stream time
    reaches last + 1 + gap + grace; a record whose session would be closed then is late."""

    def __init__(self, gap, grace, result):
        self.gap, self.grace, self.result = gap, grace, result
        self.open = {}  # key -> list of [first, last, points]
        self.stream = -1
        self.out, self.late = [], []

    def add(self, key, t, x, offset):
        self.stream = max(self.stream, t)
        mine = self.open.setdefault(key, [])
        joined = [s for s in mine if s[0] - self.gap <= t <= s[1] + self.gap]
        first = min([t] + [s[0] for s in joined])
        last = max([t] + [s[1] for s in joined])
        close = last + 1 + self.gap + self.grace
        if self.stream >= close:
            self.late.append((key, offset,
                              "late: the record's event time %d is in the session [%d, %d), "
                              "closed since stream time reached %d (its end + gap %d + grace %d "
                              "ms); %d ms late" % (t, first, last + 1, close, self.gap, self.grace,
                                                   self.stream - close + 1)))
        else:
            pts = [p for s in joined for p in s[2]] + [(t, x)]
            self.open[key] = [s for s in mine if s not in joined] + [[first, last, pts]]
        for k, sessions in self.open.items():  # after the record: the sessions that closed
            for s in list(sessions):
                if self.stream >= s[1] + 1 + self.gap + self.grace:
                    v = {"start": s[0], "end": s[1] + 1}
                    v.update(self.result(s[2]))
                    self.out.append({"key": k, "timestamp": s[1], "value": v})
                    sessions.remove(s)


class Sliding:
    """Sliding windows of one step, per key: the window of a record at t holds the key's records
    u with t - size <= u <= t, and is written at t as [max(0, t - size), t + 1). A record opens
    its window when stream time is below t + 1 + grace, and joins the open windows of later
    records of its key within size; with none of them open it is late. A window closes when
    stream time reaches t + 1 + grace. Every record kept for ever: nothing is evicted here."""

    def __init__(self, size, grace, result, emit="final"):
        self.size, self.grace, self.result, self.emit = size, grace, result, emit
        self.kept = {}  # key -> [(t, arrival, x)] of the records not late
        self.open = {}  # (key, t) -> True, windows not yet closed
        self.stream = -1
        self.out, self.late = [], []

    def add(self, key, t, x, offset):
        self.stream = max(self.stream, t)
        mine = self.stream < t + 1 + self.grace
        later = sorted(e for (k, e) in self.open
                       if k == key and t < e <= t + self.size and self.stream < e + 1 + self.grace)
        joins = ([t] if mine else []) + later
        if not joins:
            close = t + 1 + self.grace
            self.late.append((key, offset,
                              "late: the record's event time %d is in the window [%d, %d), closed "
                              "since stream time reached %d (its end + grace %d ms); %d ms late"
                              % (t, max(0, t - self.size), t + 1, close, self.grace,
                                 self.stream - close + 1)))
        else:
            self.kept.setdefault(key, []).append((t, offset, x))
            if mine:
                self.open[(key, t)] = True
            if self.emit == "update":
                for e in joins:
                    self.write(key, e)
        # after the record: the windows that closed, a key's in the order of their times
        for (k, e) in sorted(self.open, key=lambda ke: ke[1]):
            if self.stream >= e + 1 + self.grace:
                if self.emit == "final":
                    self.write(k, e)
                del self.open[(k, e)]

    def write(self, key, e):
        pts = sorted(p for p in self.kept[key] if e - self.size <= p[0] <= e)
        v = {"start": max(0, e - self.size), "end": e + 1}
        v.update(self.result([(u, x) for u, _, x in pts]))
        self.out.append({"key": key, "timestamp": e, "value": v})


def integral(pts):
    pts = sorted(pts, key=lambda p: p[0])  # stable: ties keep arrival order
    return math.fsum((a[1] + b[1]) / 2 * (b[0] - a[0]) / 1000 for a, b in zip(pts, pts[1:]))


def hopping_result(pts):
    xs = [x for _, x in pts]
    by_time = sorted(pts, key=lambda p: p[0])
    return {"avg": math.fsum(xs) / len(xs), "n": len(xs),
            "sd": statistics.stdev(xs) if len(xs) > 1 else None, "lo": min(xs),
            "area": integral(pts), "d": by_time[-1][1] - by_time[0][1]}


def expected(path):
    rows = list(rows_of(path))
    accel = [(k, r["time"], abs(r["accelerometer-x"]) + abs(r["accelerometer-y"]) +
              abs(r["accelerometer-z"])) for k, r in rows if "accelerometer-x" in r]
    exp = {}

    # aggregate: running per key
    totals, out = {}, []
    for k, time, x in accel:
        s, n, top = totals.get(k, (0.0, 0, None))
        s, n, top = s + x, n + 1, x if top is None or x > top else top
        totals[k] = (s, n, top)
        out.append({"key": k, "value": {"time": time, "total": x, "odometer": s, "n": n,
                                        "top": top}})
    exp["odometer"] = out

    tum = Windows(2000, 2000, 1000, lambda p: {"value": math.fsum(x for _, x in p) / len(p)})
    hop = Windows(4000, 2000, 1000, hopping_result)
    upd = Windows(5000, 5000, 0, lambda p: {"value": math.fsum(x for _, x in p)}, emit="update")
    for i, (k, time, x) in enumerate(accel):
        for w in (tum, hop, upd):
            w.add(k, ms(time), x, i)
    exp["tumbling"], exp["hopping"], exp["updates"] = tum.out, hop.out, upd.out

    # count windows: size 5, step 3, per key, by arrival
    idx, open_, out = {}, {}, []
    for k, time, x in accel:
        n = idx.get(k, 0)
        idx[k] = n + 1
        for s in range(0, n + 1, 3):
            if not n < s + 5:
                continue
            pts = open_.setdefault((k, s), [])
            pts.append((time, x))
            if n == s + 4:
                out.append({"key": k, "value": {
                    "start": s, "end": s + 5, "avg": math.fsum(v for _, v in pts) / len(pts),
                    "first": pts[0][0], "last": pts[-1][0]}})
                del open_[(k, s)]
    exp["counted"] = out

    # every sensor, 20 ms windows, no grace
    fine = Windows(20, 20, 0, lambda p: {"n": len(p), "t": max(v for _, v in p)})
    for off, (k, r) in enumerate(rows):
        fine.add(k, ms(r["time"]), r["time"], off)
    exp["fine"] = fine.out
    sess = Sessions(1, 0, lambda p: {"n": len(p), "first": min(v for _, v in p),
                                     "last": max(v for _, v in p)})
    for off, (k, r) in enumerate(rows):
        sess.add(k, ms(r["time"]), r["time"], off)
    # the order in which sessions closing together are written is not specified: by key, start
    exp["sessions"] = sorted(sess.out, key=lambda o: (o["key"], o["value"]["start"]))

    def sliding_result(pts):  # pts in (time, arrival) order
        xs = [x for _, x in pts]
        return {"n": len(xs), "avg": math.fsum(xs) / len(xs), "sum": math.fsum(xs),
                "hi": max(xs), "lo": min(xs), "sd": statistics.stdev(xs) if len(xs) > 1 else None,
                "first": xs[0], "last": xs[-1], "area": integral(pts), "d": xs[-1] - xs[0],
                "xs": xs}
    sl = Sliding(1000, 100, sliding_result)
    for i, (k, time, x) in enumerate(accel):
        sl.add(k, ms(time), x, i)
    slr = Sliding(20, 0, lambda p: {"n": len(p), "m": merged(p)}, emit="update")
    for off, (k, r) in enumerate(rows):
        slr.add(k, ms(r["time"]), r, off)
    # the order in which windows of different keys closing together are written is not
    # specified: by key, then as written (a stable sort)
    exp["sliding"] = sorted(sl.out, key=lambda o: o["key"])
    exp["sliding-rows"] = sorted(slr.out, key=lambda o: o["key"])
    late = [(k, off, why, "fine") for k, off, why in fine.late]
    late += [(k, off, why, "sliding") for k, off, why in sl.late]
    late += [(k, off, why, "sliding-rows") for k, off, why in slr.late]
    late += [(k, off, why, "sessions") for k, off, why in sess.late]
    exp["errors"] = [{"key": k, "offset": off, "reason": why, "deployment": d}
                     for k, off, why, d in sorted(late, key=lambda e: (e[1], e[3]))]
    return exp


def merged(pts):
    """merge(): every field, each with its value from the latest row (by event time, then
    arrival) that has it."""
    out = {}
    for _, row in sorted(pts, key=lambda p: p[0]):
        out.update(row)
    return out


def expected_example(path):
    rows = list(rows_of(path))
    accel = [(k, r, abs(r["accelerometer-x"]) + abs(r["accelerometer-y"]) +
              abs(r["accelerometer-z"])) for k, r in rows if "accelerometer-x" in r]
    exp, sums = {}, {}
    out = []
    for k, r, x in accel:
        sums[k] = sums.get(k, 0.0) + x
        out.append({"key": k, "value": {"time": r["time"], "odometer": sums[k]}})
    exp["odometer"] = out
    mean = lambda p: {"value": math.fsum(x for _, x in p) / len(p)}
    tum, hop = Windows(2000, 2000, 1000, mean), Windows(4000, 2000, 1000, mean)
    for i, (k, r, x) in enumerate(accel):
        tum.add(k, ms(r["time"]), x, i)
        hop.add(k, ms(r["time"]), x, i)
    exp["tumbling-mean"], exp["hopping-mean"] = tum.out, hop.out
    norm = Windows(10000, 1000, 1000, lambda p: {"value": merged(p)})
    for i, (k, r) in enumerate(rows):
        norm.add(k, ms(r["time"]), r, i)
    for o in norm.out:
        o["value"]["time"] = o["value"]["end"]
    exp["normalized"] = norm.out
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
    exp = expected_example(path) if "--example" in sys.argv else expected(path)
    if "--corrupt" in sys.argv:
        exp["hopping"][7]["value"]["avg"] += 1e-6
    bad = 0
    for topic, want in exp.items():
        got = [json.loads(l) for l in open("%s/%s.jsonl" % (outdir, topic), encoding="utf-8")]
        if topic == "errors":
            got = [{"key": g["key"], "offset": int(g["headers"]["streamrun.source.offset"]),
                    "reason": g["headers"]["streamrun.error"],
                    "deployment": g["headers"]["streamrun.deployment"]} for g in got]
            got.sort(key=lambda e: (e["offset"], e["deployment"]))
        else:
            if topic == "sessions":
                got.sort(key=lambda o: (o["key"], o["value"]["start"]))
            if topic.startswith("sliding"):
                got.sort(key=lambda o: o["key"])
            for g, w in zip(got, want):
                if "timestamp" not in w:
                    del g["timestamp"]
                g.pop("headers", None)
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
        print("%s: %d records %s" % (topic, len(want), "match" if bad == 0 else "checked"))
    if "--example" not in sys.argv and not all(
            any(e["deployment"] == d for e in exp["errors"])
            for d in ("fine", "sessions", "sliding-rows")):
        print("the stream has no late record: the test would not see lateness")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
