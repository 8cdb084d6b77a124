#!/usr/bin/env python3
"""readme_reasons.py ROOT — every dead-letter reason README.md quotes is one that a test pins.

A reason is a `quoted` span in a README paragraph that speaks of a reason, reading as one of
the program's reasons (a known opening: `no match`, `late:`, `invalid ...`, `FIELD: field is
missing`...). Placeholders in it (N, K, T, 'k', ..., NAME: a single capital letter or NAME) stand
for any text. Each must match a reason expected in a test (tests/ and pipelines/*.tests.yaml:
YAML expectations, scripts, unit tests), since those check what the program prints; so a reason
in the README that the program does not print fails here, unless a test expects it too (and
then that test fails). Prints every reason and where it is pinned; exits 1 on one not found."""
import glob
import os
import re
import sys

REASON = re.compile(
    r"^(no match|late: |invalid (JSON|UTF-8)|row has|the record has|the output to|state store"
    r"|`?(?!reason\b)[\w-]+`?: (field is|value is|the model's|expected|mean:))")

# Reasons that only a Kafka test produces (it needs a broker), which checks them in pieces: the
# reason, the test, and the piece it checks.
IN_PIECES = {
    "invalid JSON at byte 1: ... (the dead letter is cut to fit message.max.bytes, 1000000: its "
    "value holds the first 999050 of 1500000 bytes)":
        ("tests/kafka/0032-dead-letter-limits.sh", "cut to fit message.max.bytes"),
    "the output to T takes N bytes, more than message.max.bytes (M)":
        ("tests/kafka/0033-output-over-limit.sh", "more than message.max.bytes ("),
}


def reasons(readme):
    text = re.sub(r"```.*?```", "", readme, flags=re.S)
    for para in re.split(r"\n\s*\n", text):
        if "reason" not in para:
            continue
        flat = " ".join(para.split())
        for m in re.finditer(r"`` (.+?) ``|`([^`]+)`", flat):
            span = (m.group(1) or m.group(2)).strip()
            if REASON.match(span):
                yield span


def pattern(span):
    out = []
    for tok in re.split(r"(\.\.\.|\b[A-Z]\b|\bNAME\b|'k')", span):
        if tok in ("...",) or re.fullmatch(r"[A-Z]|NAME|'k'", tok or "x"):
            out.append(".+?")
        else:
            out.append(re.escape(tok))
    return re.compile("".join(out))


def main():
    root = sys.argv[1]
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    corpus = []
    for pat in ("tests/**/*.yaml", "tests/**/*.sh", "tests/**/*.py", "tests/**/*.c",
                "pipelines/*.tests.yaml"):
        for path in glob.glob(os.path.join(root, pat), recursive=True):
            if os.path.basename(path) == "readme_reasons.py":
                continue
            corpus.append((os.path.relpath(path, root), open(path, encoding="utf-8",
                                                             errors="replace").read()))
    missing = 0
    seen = set()
    for span in reasons(readme):
        if span in seen:
            continue
        seen.add(span)
        rx = pattern(span)
        where = next((p for p, t in corpus if rx.search(t)), None)
        if not where and span in IN_PIECES:
            path, piece = IN_PIECES[span]
            if piece in dict(corpus).get(path, ""):
                where = "%s, in pieces" % path
        if where:
            print("ok: %s (%s)" % (span, where))
        else:
            print("FAIL: README quotes the reason '%s', which no test expects" % span)
            missing += 1
    if not seen:
        print("FAIL: no reasons found in README.md")
        return 1
    print("%d reasons quoted, %d not pinned by a test" % (len(seen), missing))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
