#!/usr/bin/env python3
"""Trains the sensor-alert model of pipelines/sensor-alerts.yaml and writes its package.

    python3 pipelines/models/train_sensor_alerts.py [OUT_DIR]    (default: models/sensor-alerts
                                                                   next to this script)

THE TRAINING DATA IS SYNTHETIC. No labelled sensor-alert data exists: the labels are made here,
deterministically (numpy's RandomState, seed 20240510), from a documented rule with noise, so the
model learns that rule and nothing about real sensors. Replace `training_set` by real labelled
feature vectors when there are some.

The rule. A feature vector is five integers 0..9 (pipelines/sensor-alerts.yaml's header says how
they are made): x and y (the x and y readings binned), fa (the mean of z over 10 minutes, binned),
fi (its integral) and fd (its delta). 20,000 vectors are drawn, each feature uniformly in 0..9 and
independently; a vector is an alert (class 1) when
    (x + y + 2 fa + 3 fi + 3 fd) / 90 + noise >= 0.6,    noise ~ Normal(0, 0.05)
— the weighted mean of the buckets the pipeline used before it had a model, blurred so that
vectors near the boundary get either label. 28 % of the vectors are alerts.

The model: scikit-learn's LogisticRegression (lbfgs, the default L2 penalty with C=1, tol 1e-10 so
that the fit is the optimum rather than where the iterations stopped) on the five columns,
classes normal (0) and alert (1). It is fitted on a numpy int64 array (pandas is not a dependency
of Debian's python3-sklearn), so the names are given to tools/sklearn_export.py with --features,
and --integer types the five inputs INTEGER, as they are in training and in the pipeline. The
pickle is a temporary file; only the package (config.json, model.json) is committed, and the test
pipeline/sensor-alerts/model checks that this script reproduces it.
"""

import os
import pickle
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORT = os.path.join(HERE, "..", "..", "tools", "sklearn_export.py")
FEATURES = ["x", "y", "fa", "fi", "fd"]
WEIGHTS = [1, 1, 2, 3, 3]  # the rule's weights; their sum is 10, so the mean is over 90
LABELS = ["normal", "alert"]
SEED = 20240510
N = 20000
NOISE = 0.05
CUT = 0.6


def training_set():
    """The synthetic labelled set: X (N x 5 integers 0..9) and y (0 or 1), from the rule above."""
    import numpy as np

    rng = np.random.RandomState(SEED)
    X = rng.randint(0, 10, size=(N, len(FEATURES))).astype(np.int64)
    score = (X @ np.array(WEIGHTS, dtype=np.int64)) / 90.0
    y = (score + rng.normal(0.0, NOISE, size=N) >= CUT).astype(np.int64)
    return X, y


def train():
    from sklearn.linear_model import LogisticRegression

    X, y = training_set()
    est = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    return est, X, y


def main(argv):
    out = argv[0] if argv else os.path.join(HERE, "sensor-alerts")
    est, X, y = train()
    with tempfile.TemporaryDirectory() as tmp:
        pkl = os.path.join(tmp, "sensor-alerts.pkl")
        with open(pkl, "wb") as f:
            pickle.dump(est, f)
        names = ",".join(FEATURES)
        cmd = [sys.executable, EXPORT, pkl, out, "--features", names, "--integer", names,
               "--labels", ",".join(LABELS)]
        r = subprocess.run(cmd)
        if r.returncode != 0:
            return r.returncode
    print("%s: %d synthetic vectors, %.1f %% alerts, training accuracy %.4f, %d iterations"
          % (out, N, 100.0 * y.mean(), est.score(X, y), int(est.n_iter_[0])))
    print("coef %s intercept %r" % ([float(c) for c in est.coef_[0]], float(est.intercept_[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
