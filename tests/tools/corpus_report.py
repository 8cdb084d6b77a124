#!/usr/bin/env python3
"""corpus_report.py — what the mistake corpus (tests/errors) covers, from its expected outputs.

Each tests/errors/NNN-name.yaml is a file with a mistake in it (or a valid one, for contrast),
and NNN-name.expected the exact output of `streamrun validate` on it, which the `errors` test
compares (run_errors.sh). This report reads the expected outputs only and prints:

  - the cases: how many, how many report a mistake (an error or a warning) and which report
    none (valid on purpose, or a mistake that validate does not catch yet);
  - the share that carries a fix: cases (and diagnostics) with a `= help:` line, with a
    did-you-mean, with either; diagnostics with a code, with a note (a secondary place);
  - the codes (`error[SRnnnn]:`) the cases exercise, how many cases each, and the codes of
    runner/base/diag_codes.def that no case exercises.

It fails (exit 1) when a case has no expected file, an expected file has no case or does not
start with "# exit N", or fewer than --min-cases cases (default 100) report a mistake.

  python3 tests/tools/corpus_report.py [--dir tests/errors] [--min-cases 100] [--list]
  python3 tests/tools/corpus_report.py --self-test   # the parser and the failures, on made-up cases
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# A diagnostic's first line: "PLACE: error[SR0101]: message" (PLACE and the code optional).
# Quoted source lines, carets and help lines start with white space; "# exit N" with '#'.
HEAD = re.compile(r"^(?:(?P<place>\S.*?): )?(?P<sev>error|warning|note)(?:\[(?P<code>SR\d{4})\])?: ")
HELP = re.compile(r"^ += help: ")
DID_YOU_MEAN = re.compile(r"did you mean", re.IGNORECASE)
CODE_DEF = re.compile(r'^SR_CODE\(\s*\w+\s*,\s*"(SR\d{4})"\s*,\s*"([^"]*)"\s*\)', re.MULTILINE)


class Diag:
    def __init__(self, sev, code, text):
        self.sev, self.code, self.text = sev, code, text
        self.help = None
        self.notes = 0

    def did_you_mean(self):
        return bool(DID_YOU_MEAN.search(self.text) or (self.help and DID_YOU_MEAN.search(self.help)))


def parse(text):
    """The exit code and the diagnostics of an expected output, or (None, []) when malformed."""
    lines = text.split("\n")
    m = re.match(r"^# exit (\d+)$", lines[0]) if lines else None
    if not m:
        return None, []
    diags, in_help = [], False
    for line in lines[1:]:
        h = HEAD.match(line)
        if h and not line[:1].isspace():
            in_help = False
            if h.group("sev") == "note" and diags:
                diags[-1].notes += 1  # a secondary place of the diagnostic before it
            elif h.group("sev") != "note":
                diags.append(Diag(h.group("sev"), h.group("code"), line[h.end():]))
            continue
        if HELP.match(line) and diags:
            diags[-1].help = line[HELP.match(line).end():]
            in_help = True
        elif in_help and line.startswith("              ") and diags:
            diags[-1].help += "\n" + line.strip()  # a help of several lines
        else:
            in_help = False
    return int(m.group(1)), diags


def pct(n, d):
    return f"{100.0 * n / d:.0f}%" if d else "-"


SELF_TEST_CASE = """# exit 1
t.yaml:3:5: error[SR0101]: unknown key 'dead_letter'; did you mean 'deadLetter'?
    3 |     dead_letter: errors
      |     ^~~~~~~~~~~
      = help: write 'deadLetter: errors'
t.yaml:9:7: error[SR0201]: duplicate topic 'a'
    9 |   - a
      |     ^
t.yaml:8:7: note: first defined here
    8 |   - a
      |     ^
      = help: rename one of them:
                - a-2
t.yaml:1:1: warning: no code yet: error: inside the message
2 errors in 1 of 1 file
"""


def self_test():
    """The parser on an output with codes, help lines of one and two lines, a note and a
    diagnostic without a code; then the report's failures: a case without its expected file,
    and too few cases."""
    status, ds = parse(SELF_TEST_CASE)
    got = [(d.sev, d.code, d.help, d.notes, d.did_you_mean()) for d in ds]
    want = [("error", "SR0101", "write 'deadLetter: errors'", 0, True),
            ("error", "SR0201", "rename one of them:\n- a-2", 1, False),
            ("warning", None, None, 0, False)]
    ok = status == 1 and got == want
    if not ok:
        print(f"FAIL parse: got {status} {got}, want 1 {want}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as d:
        for name in ("001-a", "002-b"):
            with open(os.path.join(d, name + ".yaml"), "w") as f:
                f.write("topics: []\n")
            with open(os.path.join(d, name + ".expected"), "w") as f:
                f.write(SELF_TEST_CASE)
        me = [sys.executable, os.path.abspath(__file__), "--dir", d, "--codes", os.devnull]
        runs = [("2 cases, at least 2", [], 0), ("2 cases, at least 3", ["--min-cases", "3"], 1)]
        for what, extra, rc_want in runs:
            r = subprocess.run(me + ["--min-cases", "2"] + extra, capture_output=True, text=True)
            if r.returncode != rc_want or (rc_want == 0 and "2 of 2  100%" not in r.stdout):
                print(f"FAIL {what}: exit {r.returncode}, want {rc_want}\n{r.stdout}{r.stderr}",
                      file=sys.stderr)
                ok = False
        os.remove(os.path.join(d, "002-b.expected"))
        r = subprocess.run(me + ["--min-cases", "1"], capture_output=True, text=True)
        if r.returncode != 1 or "002-b.yaml has no 002-b.expected" not in r.stderr:
            print(f"FAIL a case without its expected file: exit {r.returncode}\n{r.stderr}",
                  file=sys.stderr)
            ok = False
    print("self-test: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(ROOT, "tests", "errors"))
    ap.add_argument("--codes", default=os.path.join(ROOT, "runner", "base", "diag_codes.def"))
    ap.add_argument("--min-cases", type=int, default=100,
                    help="fail when fewer cases report a mistake (default 100)")
    ap.add_argument("--list", action="store_true", help="also list every case with its codes")
    args = ap.parse_args()

    problems = []
    names = sorted(os.listdir(args.dir))
    cases = [n[:-5] for n in names if n.endswith(".yaml")]
    expected = {n[:-9] for n in names if n.endswith(".expected")}
    for c in cases:
        if c not in expected:
            problems.append(f"{c}.yaml has no {c}.expected (STREAMRUN_REGENERATE=1 bash "
                            "tests/errors/run_errors.sh build/streamrun writes it)")
    for e in sorted(expected - set(cases)):
        problems.append(f"{e}.expected has no {e}.yaml")

    reported, clean, diags = [], [], []
    per_code = {}
    with_help, with_dym, with_fix, with_note = [], [], [], []
    for c in cases:
        if c not in expected:
            continue
        with open(os.path.join(args.dir, c + ".expected"), encoding="utf-8") as f:
            status, ds = parse(f.read())
        if status is None:
            problems.append(f"{c}.expected does not start with '# exit N'")
            continue
        diags.extend(ds)
        if not any(d.sev in ("error", "warning") for d in ds):
            clean.append((c, status))
            continue
        reported.append(c)
        for code in sorted({d.code for d in ds if d.code}):
            per_code.setdefault(code, []).append(c)
        if any(d.help for d in ds):
            with_help.append(c)
        if any(d.did_you_mean() for d in ds):
            with_dym.append(c)
        if any(d.help or d.did_you_mean() for d in ds):
            with_fix.append(c)
        if any(d.notes for d in ds):
            with_note.append(c)
        if args.list:
            codes = ", ".join(sorted({d.code or "-" for d in ds}))
            marks = ("help " if any(d.help for d in ds) else "") + \
                    ("did-you-mean" if any(d.did_you_mean() for d in ds) else "")
            print(f"  {c}: {len(ds)} diagnostics [{codes}] {marks}")

    defined = {}
    if os.path.exists(args.codes):
        with open(args.codes, encoding="utf-8") as f:
            defined = dict(CODE_DEF.findall(f.read()))

    n = len(reported)
    nd = len(diags)
    coded = sum(1 for d in diags if d.code)
    print(f"mistake corpus ({os.path.relpath(args.dir, os.getcwd())}): {len(cases)} cases, "
          f"{n} reporting a mistake, {len(clean)} reporting none")
    print(f"  cases with a fix (a '= help:' line):  {len(with_help):4d} of {n}  {pct(len(with_help), n)}")
    print(f"  cases with a did-you-mean:            {len(with_dym):4d} of {n}  {pct(len(with_dym), n)}")
    print(f"  cases with either:                    {len(with_fix):4d} of {n}  {pct(len(with_fix), n)}")
    print(f"  cases with a note (secondary place):  {len(with_note):4d} of {n}  {pct(len(with_note), n)}")
    print(f"  diagnostics: {nd} ({sum(d.sev == 'error' for d in diags)} errors, "
          f"{sum(d.sev == 'warning' for d in diags)} warnings); with a code {coded} "
          f"({pct(coded, nd)}), with help {sum(1 for d in diags if d.help)} "
          f"({pct(sum(1 for d in diags if d.help), nd)}), with a did-you-mean "
          f"{sum(1 for d in diags if d.did_you_mean())} "
          f"({pct(sum(1 for d in diags if d.did_you_mean()), nd)})")
    if clean:
        print("  reporting no mistake: " + ", ".join(f"{c} (exit {s})" for c, s in clean))
    print(f"codes exercised: {len(per_code)}" + (f" of the {len(defined)} in "
          f"{os.path.relpath(args.codes, os.getcwd())}" if defined else ""))
    for code in sorted(per_code):
        title = defined.get(code, "(not in diag_codes.def)")
        print(f"  {code} {title}: {len(per_code[code])} cases")
    missing = sorted(set(defined) - set(per_code))
    if missing:
        print("  no case: " + ", ".join(f"{c} ({defined[c]})" for c in missing))

    if n < args.min_cases:
        problems.append(f"only {n} cases report a mistake; the corpus must hold at least "
                        f"{args.min_cases}")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
