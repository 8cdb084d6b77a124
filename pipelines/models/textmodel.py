"""textmodel.py — what pipelines/models/train_*.py share: reading a labelled corpus (JSON lines),
the text classifier they train (TF-IDF of words, sublinear term counts, then a multinomial
logistic regression), its cross-validated accuracy, and the export of the fitted pipeline as a streamrun
model package with tools/sklearn_export.py. Needs python3-sklearn (Debian 12: scikit-learn 1.2.1).
"""

import json
import os
import pickle
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = os.path.join(ROOT, "tools", "sklearn_export.py")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_model():
    """A new, unfitted text classifier. Deterministic: lbfgs from zero, no random state."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=3.0, max_iter=5000))


def fit(texts, labels):
    return make_model().fit(texts, labels)


def cv_accuracy(texts, labels, folds=5):
    """The mean accuracy over stratified folds (shuffled with a fixed seed), and its spread."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = cross_val_score(make_model(), np.array(texts, dtype=object), np.array(labels), cv=cv)
    return float(scores.mean()), float(scores.std())


def export(model, out, input_name):
    """Writes the package OUT (config.json, model.json) of the fitted pipeline MODEL, whose one
    input is the STRING field INPUT_NAME."""
    with tempfile.TemporaryDirectory() as tmp:
        pkl = os.path.join(tmp, "model.pkl")
        with open(pkl, "wb") as f:
            pickle.dump(model, f)
        subprocess.run([sys.executable, EXPORT, pkl, out, "--features", input_name], check=True)
