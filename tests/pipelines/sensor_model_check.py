#!/usr/bin/env python3
"""sensor_model_check.py — the committed sensor-alert model is what its training script makes, and
streamrun scores it as scikit-learn does.

    python3 tests/pipelines/sensor_model_check.py build/streamrun WORKDIR

1. Runs pipelines/models/train_sensor_alerts.py into WORKDIR and compares the package it writes
   with pipelines/models/sensor-alerts/: config.json equal, model.json equal but for its numbers,
   which must be within 1e-9 (relative above 1) of the committed ones — the same text where
   scikit-learn, numpy and the BLAS are the development machine's (Debian 12), a little room
   elsewhere, none for another training set, seed or model.
2. Scores every possible feature vector, the 100,000 of (0..9)^5, with `streamrun score` on the
   committed package and compares with the retrained estimator's predict / predict_proba: the same
   labels, probabilities within 1e-9.

Exit 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is set.
"""

import importlib.util
import itertools
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "pipelines", "models", "sensor-alerts")
TRAIN = os.path.join(ROOT, "pipelines", "models", "train_sensor_alerts.py")
TOL = 1e-9


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def same_json(got, want, path, problems):
    """Equal JSON, numbers within TOL; each difference appended to problems with its path."""
    if isinstance(want, dict) and isinstance(got, dict):
        if list(got) != list(want):
            problems.append("%s: members %s, committed %s" % (path, list(got), list(want)))
            return
        for k in want:
            same_json(got[k], want[k], "%s.%s" % (path, k), problems)
    elif isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            problems.append("%s: %d elements, committed %d" % (path, len(got), len(want)))
            return
        for i, (g, w) in enumerate(zip(got, want)):
            same_json(g, w, "%s[%d]" % (path, i), problems)
    elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if not close(got, want):
            problems.append("%s: %r, committed %r" % (path, got, want))
    elif got != want or type(got) is not type(want):
        problems.append("%s: %r, committed %r" % (path, got, want))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    streamrun, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    try:
        import numpy as np
        import sklearn  # noqa: F401
    except ImportError as e:
        if os.environ.get("STREAMRUN_REQUIRE_SKLEARN") or os.environ.get("CI"):
            print("scikit-learn is required here (CI): %s" % e)
            return 1
        print("SKIP: scikit-learn is not installed (%s); apt-get install python3-sklearn" % e)
        return 77
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "sensor-alerts")
    r = subprocess.run([sys.executable, TRAIN, out])
    if r.returncode != 0:
        print("FAIL: the training script exited with %d" % r.returncode)
        return 1
    problems = []
    identical = True
    for name in ("config.json", "model.json"):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            got_text = f.read()
        with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
            want_text = f.read()
        identical = identical and got_text == want_text
        same_json(json.loads(got_text), json.loads(want_text), name, problems)
    for p in problems[:20]:
        print("FAIL retrained " + p)
    if problems:
        print("the committed package is not what pipelines/models/train_sensor_alerts.py makes")
        return 1
    print("ok   retrained package: %s" % ("byte for byte the committed one" if identical else
                                         "the committed one within 1e-9 (not byte for byte)"))

    spec = importlib.util.spec_from_file_location("train_sensor_alerts", TRAIN)
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    est, _, _ = train.train()
    X = np.array(list(itertools.product(range(10), repeat=5)), dtype=np.int64)
    lines = "".join(json.dumps(dict(zip(train.FEATURES, map(int, row)))) + "\n" for row in X)
    r = subprocess.run([streamrun, "score", PACKAGE], input=lines, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL streamrun score: exit %d: %s" % (r.returncode, r.stderr[:2000]))
        return 1
    got = [json.loads(line) for line in r.stdout.splitlines()]
    want_label, want_proba = est.predict(X), est.predict_proba(X)
    bad = 0
    for i, g in enumerate(got):
        wl = train.LABELS[int(want_label[i])]
        ok = g["label"] == wl and all(close(g["probabilities"][n], float(want_proba[i][k]))
                                      for k, n in enumerate(train.LABELS))
        if not ok:
            bad += 1
            if bad <= 5:
                print("FAIL %s: streamrun %s, scikit-learn %s %s" % (X[i].tolist(), g, wl, want_proba[i].tolist()))
    if len(got) != len(X):
        print("FAIL %d lines for %d vectors" % (len(got), len(X)))
        return 1
    alerts = int(sum(want_proba[:, 1] >= 0.6))
    print("%s every feature vector: %d scored, %d differ from scikit-learn (%d with P(alert) >= 0.6)"
          % ("ok  " if bad == 0 else "FAIL", len(X), bad, alerts))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
