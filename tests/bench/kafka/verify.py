# verify.py — checks a peer's output topic, as dumped by read.c on stdin, against the reference
# computed here from the input file: as a multiset of (key, value) for the passthrough, or of
# (key, row) for the normalisation, where a row is compared as parsed JSON (field order and number
# spelling aside; `time` must stay the exact nanosecond integer).
#
# usage: read BOOTSTRAP TOPIC | /usr/bin/python3 verify.py passthrough|rows FILE N [KEYS [DROPPED]]
# The input sequence is the one load.c produced: message i is line i % LINES of FILE with key
# "device-%02d" % (i % KEYS). Prints one line starting "verify: OK" or "verify: FAILED" (with a
# few differing records) and exits 0 or 1; `verify.py count FILE N` prints the expected row count.
# DROPPED (passthrough only, default 0): how many records the broker dropped under its size cap
# (the embedded broker keeps 5 MiB per partition); then every record read must be one of the
# reference's and exactly DROPPED of the reference's may be missing.
import json
import struct
import sys
from collections import Counter


def input_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = []
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line:
            lines.append(line)
    return lines


def normalise(message):
    """The tutorial's episode-1 normalisation of one message: its output rows."""
    rows = []
    for reading in json.loads(message)["payload"]:
        row = {"time": reading["time"]}
        for field, value in reading["values"].items():
            row[reading["name"] + "-" + field] = value
        if "accelerometer-x" not in row:
            continue
        out = {k: row[k] for k in ("time", "accelerometer-x", "accelerometer-y", "accelerometer-z")}
        out["accelerometer-total"] = (abs(out["accelerometer-x"]) + abs(out["accelerometer-y"])
                                      + abs(out["accelerometer-z"]))
        if out["accelerometer-total"] > 50:
            rows.append(out)
    return rows


def canonical(row):
    """A hashable form of a flat JSON object: 1 and 1.0 compare equal, an int time does not
    equal a float that lost its low digits."""
    if not isinstance(row, dict):
        return ("not an object", json.dumps(row, sort_keys=True))
    return tuple(sorted(((k, json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
                         for k, v in row.items()), key=lambda kv: kv[0]))


def records(stream):
    read = stream.read
    while True:
        head = read(4)
        if not head:
            return
        (klen,) = struct.unpack("<I", head)
        key = None if klen == 0xFFFFFFFF else read(klen)
        (vlen,) = struct.unpack("<I", read(4))
        yield key, read(vlen)


def reference(mode, lines, total, nkeys):
    keys = [("device-%02d" % k).encode() for k in range(nkeys)]
    pairs = Counter((i % len(lines), i % nkeys) for i in range(total))
    expected = Counter()
    if mode == "passthrough":
        for (j, k), n in pairs.items():
            expected[(keys[k], lines[j])] += n
    else:
        rows = [[canonical(r) for r in normalise(line)] for line in lines]
        for (j, k), n in pairs.items():
            for r in rows[j]:
                expected[(keys[k], r)] += n
    return expected


def show(record):
    key, value = record
    text = repr(value)
    return "key=%r value=%s" % (key, text if len(text) < 200 else text[:200] + "...")


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[0] not in ("passthrough", "rows", "count"):
        sys.exit("usage: verify.py passthrough|rows|count FILE N [KEYS [DROPPED]]")
    mode, path, total = args[0], args[1], int(args[2])
    nkeys = int(args[3]) if len(args) > 3 else 64
    dropped = int(args[4]) if len(args) > 4 else 0
    if dropped and mode != "passthrough":
        sys.exit("verify.py: DROPPED is for passthrough output only")
    lines = input_lines(path)
    if mode == "count":
        per_line = [len(normalise(line)) for line in lines]
        print(sum(per_line[i % len(lines)] for i in range(total)))
        return
    expected = reference(mode, lines, total, nkeys)
    got = Counter()
    bad_json = 0
    for key, value in records(sys.stdin.buffer):
        if mode == "rows":
            try:
                value = canonical(json.loads(value))
            except ValueError:
                bad_json += 1
                value = ("not JSON", value)
        got[(key, value)] += 1
    n_got, n_exp = sum(got.values()), sum(expected.values())
    if got == expected:
        print("verify: OK: %d records, the same multiset of (key, %s) as the reference"
              % (n_got, "value" if mode == "passthrough" else "row"))
        return
    missing, extra = expected - got, got - expected
    if dropped and not extra and sum(missing.values()) == dropped:
        print("verify: OK: %d records kept by the broker, each one of the reference's; the other "
              "%d were dropped by the broker's size cap after they were acknowledged"
              % (n_got, dropped))
        return
    print("verify: FAILED: %d records, expected %d; %d missing, %d unexpected%s"
          % (n_got, n_exp, sum(missing.values()), sum(extra.values()),
             ", %d not JSON" % bad_json if bad_json else ""))
    for record in list(missing)[:3]:
        print("  missing:    " + show(record))
    for record in list(extra)[:3]:
        print("  unexpected: " + show(record))
    sys.exit(1)


main()
