#!/usr/bin/env python3
"""unicode_check.py — checks the text classifier's Unicode tables against this python3 over every
code point 0..0x10FFFF (surrogates excepted: UTF-8 text cannot hold them): re's \\w membership, and
str.lower() of the code point alone and in the contexts CPython's final-sigma rule reads. Also
checks that runner/model/text_unicode_tables.inc is what tools/gen_unicode_tables.py generates.

    python3 tests/model/unicode_check.py build/unicode_dump
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORD = re.compile(r"\w")


def hexs(s):
    return ".".join("%X" % ord(x) for x in s)


def expected(cp):
    c = chr(cp)
    return "%X %d %s %s %s %s" % (cp, 1 if WORD.fullmatch(c) else 0, hexs(c.lower()),
                                  hexs(("A" + c + "\u03a3").lower()),
                                  hexs(("1" + c + "\u03a3").lower()),
                                  hexs(("A\u03a3" + c).lower()))


def main():
    out = subprocess.run([sys.argv[1]], check=True, stdout=subprocess.PIPE).stdout
    got = out.decode("ascii").splitlines()
    want = [expected(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    bad = 0
    if len(got) != len(want):
        print("unicode_dump printed %d lines, expected %d" % (len(got), len(want)))
        bad += 1
    for g, w in zip(got, want):
        if g != w:
            bad += 1
            if bad <= 20:
                print("mismatch: got  %s\n          want %s" % (g, w))
    gen = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_unicode_tables.py"),
                          "--check"])
    if gen.returncode:
        bad += 1
    print("%d code points checked, %d mismatches" % (len(want), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
