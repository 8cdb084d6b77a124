#!/usr/bin/env python3
"""text_model_check.py — the committed packages of an example are what its training script makes:
runs pipelines/models/SCRIPT (which trains on the example's corpus and exports with
tools/sklearn_export.py) into WORKDIR and compares each package it lists (PACKAGES) with the one
in pipelines/models: config.json equal, model.json equal with numbers within 1e-9 (relative above
1), so that only floating-point noise of another BLAS passes, not another corpus or setting.
--corrupt changes one coefficient of the first fresh package: it passes (exit 0) only when the
check reports that difference.

    python3 tests/pipelines/text_model_check.py train_mood.py WORKDIR [--corrupt]

Exit 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is set.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "model"))
sys.path.insert(0, os.path.join(ROOT, "pipelines", "models"))
from sklearn_compare import require_sklearn  # noqa: E402  (exits 77 without scikit-learn)

require_sklearn()
TOL = 1e-9


def diff(a, b, path, out):
    """Appends to OUT where A and B differ (numbers within TOL)."""
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or a is None:
        if a != b:
            out.append("%s: %r, the script makes %r" % (path, a, b))
    elif isinstance(a, (int, float)):
        if not isinstance(b, (int, float)) or abs(a - b) > TOL * max(1.0, abs(a), abs(b)):
            out.append("%s: %r, the script makes %r" % (path, a, b))
    elif isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            out.append("%s: a list of %d, the script makes %s" % (path, len(a), json.dumps(b)[:80]))
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                diff(x, y, "%s[%d]" % (path, i), out)
    elif isinstance(a, dict):
        if not isinstance(b, dict) or sorted(a) != sorted(b):
            ka, kb = set(a), set(b) if isinstance(b, dict) else set()
            out.append("%s: keys %s only committed, %s only made" % (path, sorted(ka - kb)[:5], sorted(kb - ka)[:5]))
        else:
            for k in a:
                diff(a[k], b[k], "%s.%s" % (path, k), out)


def main(argv):
    script, work = argv[0], argv[1]
    corrupt = "--corrupt" in argv[2:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "pipelines", "models", script), work])
    if p.returncode != 0:
        print("FAIL: %s exited %d" % (script, p.returncode))
        return 1
    packages = importlib.import_module(script[:-3]).PACKAGES
    problems = []
    for name in packages:
        for f in ("config.json", "model.json"):
            with open(os.path.join(ROOT, "pipelines", "models", name, f), encoding="utf-8") as fh:
                committed = json.load(fh)
            with open(os.path.join(work, name, f), encoding="utf-8") as fh:
                made = json.load(fh)
            if corrupt and f == "model.json" and name == packages[0]:
                made["coef"][0][0] += 1e-6
            diff(committed, made, "%s/%s" % (name, f), problems)
    for line in problems[:20]:
        print("MISMATCH " + line)
    if corrupt:
        if len(problems) == 1 and problems[0].startswith("%s/model.json.coef[0][0]: " % packages[0]):
            print("the changed coefficient was reported")
            return 0
        print("FAIL: the changed coefficient was not reported as the one difference")
        return 1
    if problems:
        print("FAIL: %d differences: re-run python3 pipelines/models/%s and commit the packages"
              % (len(problems), script))
        return 1
    print("PASS: the packages %s are what %s makes" % (", ".join(packages), script))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
