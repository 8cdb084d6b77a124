#!/usr/bin/env python3
"""split_check.py — the model step's A/B split against an independent Python computation.

Runs `streamrun run` over records with many keys (ASCII, accented, CJK, emoji, empty) and, in a
second deployment, over a `split:` expression that gives integers and strings, then checks that
each output's `variant` is the one README.md ("Model packages", A/B variants) defines:

    h = FNV-1a 64 of the split value's bytes (a string's UTF-8; an integer's decimal digits)
    position = h % (sum of the weights)
    the first variant (in the step's order) whose cumulative weight is above the position

It also checks that the split is sticky (a key seen twice gets the same variant), that records
with no split value take the weighted round-robin, that the shares are near the weights, and
that the check would catch another hash (FNV-1, or murmur2 as the partitioner uses): a test that
cannot fail proves nothing.

    python3 tests/model/split_check.py build/streamrun WORKDIR
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = os.path.join(ROOT, "tests", "model", "packages")
VARIANTS = [("a", "alert", 7), ("b", "alert-v2", 13), ("c", "alert", 80)]


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def fnv1_64(data: bytes) -> int:  # the other order: multiply, then xor
    h = 0xCBF29CE484222325
    for byte in data:
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        h ^= byte
    return h


def murmur2(data: bytes) -> int:  # Kafka's partitioner hash
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    i = 0
    while length - i >= 4:
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
        i += 4
    rest = length - i
    if rest == 3:
        h ^= data[i + 2] << 16
    if rest >= 2:
        h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def split_bytes(v) -> bytes:
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):  # the shortest text that reads back the same (moderate values)
        return repr(v).encode()
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def variant_of(v, hashf=fnv1a64) -> str:
    total = sum(w for _, _, w in VARIANTS)
    pos = hashf(split_bytes(v)) % total
    upto = 0
    for name, _, w in VARIANTS:
        upto += w
        if pos < upto:
            return name
    raise AssertionError("unreachable")


def round_robin(n):
    order = [name for name, _, w in VARIANTS for _ in range(w)]
    return [order[i % len(order)] for i in range(n)]


def keys():
    ks = [f"user-{i}" for i in range(3000)]
    ks += ["", "é", "e\u0301", "Straße", "İstanbul", "东京", "🙂", "a b", "\"quoted\"", "x" * 300]
    return ks


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    bin_, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    variants = "\n".join(
        f"            - {{name: {n}, package: {os.path.join(PACKAGES, p)}, weight: {w}}}"
        for n, p, w in VARIANTS)
    topo = os.path.join(work, "split.yaml")
    with open(topo, "w") as f:
        f.write(f"""topics: [by-key, by-field, out-key, out-field, errors]
deployments:
  - name: by-key
    input: by-key
    deadLetter: errors
    pipeline:
      - model:
          variants:
{variants}
    output: out-key
  - name: by-field
    input: by-field
    deadLetter: errors
    pipeline:
      - model:
          split: user
          variants:
{variants}
    output: out-field
""")
    feats = {"f1": 1, "f2": 2, "f3": 3, "f4": 4, "f5": 5}
    ks = keys()
    nnull = 45
    by_key = [{"key": k, "value": dict(feats, i=i)} for i, k in enumerate(ks)]
    by_key += [{"key": k, "value": dict(feats, i=len(ks) + i)} for i, k in enumerate(ks[:200])]
    by_key += [{"key": None, "value": dict(feats, i=-1 - i)} for i in range(nnull)]
    users = list(range(-500, 1500)) + [2**62, -2**63] + [f"u{i}" for i in range(500)]
    users += [i / 8 for i in range(-100, 100) if i % 8] + [True, False, [1, "a"], {"b": [2]}]
    by_field = [{"key": "same", "value": dict(feats, i=i, user=u)} for i, u in enumerate(users)]
    # numbers as written differently: the split takes their value (1.50 is 1.5, 1e3 is 1000.0)
    # (chosen so that the text as written would pick another variant: checked below)
    written = {"2.50": 2.5, "3.50": 3.5, "3e2": 300.0, "9e2": 900.0, "1.50": 1.5, "1e3": 1000.0}
    for name, recs in (("by-key", by_key), ("by-field", by_field)):
        with open(os.path.join(work, name + ".jsonl"), "w") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            if name == "by-field":
                for text, val in written.items():
                    f.write('{"key": "same", "value": {"f1": 1, "f2": 2, "f3": 3, "f4": 4, '
                            '"f5": 5, "user": %s}}\n' % text)
                    by_field.append({"value": {"user": val}})
    out = os.path.join(work, "out")
    p = subprocess.run([bin_, "run", topo, "--envelope", "--out", out,
                        "--in", "by-key=" + os.path.join(work, "by-key.jsonl"),
                        "--in", "by-field=" + os.path.join(work, "by-field.jsonl")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        return 1
    failures = []

    def read(name):
        with open(os.path.join(out, name + ".jsonl"), encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    got_key = read("out-key")
    if len(got_key) != len(by_key):
        failures.append(f"by-key: {len(got_key)} outputs for {len(by_key)} inputs")
    seen, nulls = {}, []
    for r in got_key:
        k, v = r["key"], r["value"]["variant"]
        if k is None:
            nulls.append((r["value"]["i"], v))
            continue
        want = variant_of(k)
        if v != want:
            failures.append(f"key {k!r}: variant {v}, the FNV-1a split gives {want}")
        if seen.setdefault(k, v) != v:
            failures.append(f"key {k!r}: variant {v}, and {seen[k]} the first time")
    nulls.sort(reverse=True)  # i = -1, -2, ...: input order
    if [v for _, v in nulls] != round_robin(nnull):
        failures.append(f"no key: variants {[v for _, v in nulls]}, wanted the round-robin "
                        f"{round_robin(nnull)}")
    got_field = read("out-field")
    if len(got_field) != len(by_field):
        failures.append(f"by-field: {len(got_field)} outputs for {len(by_field)} inputs")
    for r in got_field:
        u, v = r["value"]["user"], r["value"]["variant"]
        if v != variant_of(u):
            failures.append(f"split value {u!r}: variant {v}, the FNV-1a split gives "
                            f"{variant_of(u)}")

    # the shares are near the weights (3,010 distinct keys)
    total = sum(w for _, _, w in VARIANTS)
    shares = {n: 0 for n, _, _ in VARIANTS}
    for k in ks:
        shares[variant_of(k)] += 1
    for n, _, w in VARIANTS:
        if abs(shares[n] / len(ks) - w / total) > 0.03:
            failures.append(f"variant {n}: {shares[n]} of {len(ks)} keys for a weight {w}/{total}")
    if all(variant_of(t) == variant_of(v) for t, v in written.items()):
        failures.append("the numbers as written split as their values: the check could not "
                        "tell whether they are read as numbers")
    # the comparison can fail: another hash gives other variants for some of these keys
    for other in (fnv1_64, murmur2):
        if all(variant_of(k, other) == variant_of(k) for k in ks):
            failures.append(f"{other.__name__} splits these keys as FNV-1a does: the check "
                            "could not tell them apart")

    for f in failures[:20]:
        print("FAIL:", f)
    print(f"{len(got_key) + len(got_field)} outputs checked; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
