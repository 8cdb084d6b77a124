#!/usr/bin/env python3
"""text_compare.py — text classifiers trained on tests/model/text_corpus.jsonl (short texts in four
classes, hostile ones among them: accents composed and decomposed, 'İ', 'ß', 'ΣΑΣ', emoji, digits,
underscores, Arabic, CJK, empty and blank texts) with each vectorizer scikit-learn has, exported with
tools/sklearn_export.py and scored by `streamrun score`, compared with scikit-learn's predict and
predict_proba (or a regressor's predict): the same labels, probabilities and values within 1e-9.
Scored: the corpus and mutations of it (case changes, random code points from every plane,
combining marks, sigmas, separators), and long texts made of the whole corpus. Vectorizers it
cannot export exactly must be refused by name.

    python3 tests/model/text_compare.py build/streamrun WORKDIR

Exit 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is set.
"""

import json
import os
import pickle
import random
import subprocess
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = os.path.join(ROOT, "tools", "sklearn_export.py")
CORPUS = os.path.join(ROOT, "tests", "model", "text_corpus.jsonl")

from sklearn_compare import require_sklearn  # noqa: E402  (exits 77 without scikit-learn)

require_sklearn()
import numpy as np  # noqa: E402
from sklearn import linear_model, pipeline, svm  # noqa: E402
from sklearn.feature_extraction import text as fx  # noqa: E402

warnings.filterwarnings("ignore")
TOL = 1e-9
failures = []


def mutations(texts, n, seed=10):
    """Texts made from the corpus's: case changed, random code points (any plane but surrogates)
    and combining marks inserted, separators replaced, sigmas and dotted capitals added."""
    rnd = random.Random(seed)
    extra = ["\u03a3", "\u03c3", "\u03c2", "\u0130", "\u0131", "\u00df", "\u1e9e", "\u0301", "\u0345",
             "_", "\u00b2", "\u0663", "\u4e00", "\U0001F600", "\u200d", "\u00ad", "'", ".", "-", "\u2028"]
    out = []
    for i in range(n):
        t = list(rnd.choice(texts))
        for _ in range(rnd.randint(0, 6)):
            r = rnd.random()
            pos = rnd.randint(0, len(t))
            if r < 0.3:
                t.insert(pos, rnd.choice(extra))
            elif r < 0.5:
                cp = rnd.randint(0, 0x10FFFF)
                while 0xD800 <= cp <= 0xDFFF:
                    cp = rnd.randint(0, 0x10FFFF)
                t.insert(pos, chr(cp))
            elif r < 0.7 and t:
                t[pos % len(t)] = t[pos % len(t)].upper()
            elif t:
                t[pos % len(t)] = rnd.choice([" ", "\t", ",", "\u3000", "\u00a0", "|"])
        s = "".join(t)
        out.append(s.upper() if i % 7 == 0 else s)
    return out


def models():
    lr = lambda **kw: linear_model.LogisticRegression(max_iter=2000, **kw)  # noqa: E731
    P = pipeline.make_pipeline
    return [
        ("count-multinomial", P(fx.CountVectorizer(), lr()), "label"),
        ("count-binary-bigrams-ovr", P(fx.CountVectorizer(binary=True, ngram_range=(1, 2)),
                                       lr(multi_class="ovr", solver="liblinear")), "label"),
        ("count-then-tfidf", P(fx.CountVectorizer(max_features=150, min_df=2),
                               fx.TfidfTransformer(sublinear_tf=True), lr()), "label"),
        ("tfidf-default", P(fx.TfidfVectorizer(), lr()), "label"),
        ("tfidf-sublinear-l1-trigrams", P(fx.TfidfVectorizer(sublinear_tf=True, norm="l1",
                                                             ngram_range=(1, 3), smooth_idf=False,
                                                             max_df=0.9), lr(C=10.0)), "label"),
        ("tfidf-no-idf-no-norm-bigrams-only", P(fx.TfidfVectorizer(use_idf=False, norm=None,
                                                                   ngram_range=(2, 2)), lr()), "label"),
        ("tfidf-case-kept-single-chars", P(fx.TfidfVectorizer(lowercase=False,
                                                              token_pattern=r"(?u)\b\w+\b"), lr()), "label"),
        ("tfidf-binary-two-classes", P(fx.TfidfVectorizer(binary=True), lr()), "sport"),
        ("hashing-default-1024", P(fx.HashingVectorizer(n_features=1024), lr()), "label"),
        ("hashing-binary-unsigned-97", P(fx.HashingVectorizer(n_features=97, alternate_sign=False,
                                                              norm=None, binary=True,
                                                              ngram_range=(1, 2)), lr()), "label"),
        ("hashing-l1-3-columns-binary", P(fx.HashingVectorizer(n_features=3, norm="l1", binary=True),
                                          lr()), "label"),
        ("tfidf-linear-regression", P(fx.TfidfVectorizer(ngram_range=(1, 2)),
                                      linear_model.LinearRegression()), "number"),
    ]


REFUSED = [
    ("char n-grams", fx.TfidfVectorizer(analyzer="char"), "analyzer"),
    ("stop words", fx.CountVectorizer(stop_words="english"), "stop_words"),
    ("a tokenizer", fx.CountVectorizer(tokenizer=str.split), "tokenizer"),
    ("strip_accents", fx.TfidfVectorizer(strip_accents="unicode"), "strip_accents"),
    ("another token pattern", fx.CountVectorizer(token_pattern=r"[a-z]+"), "token_pattern"),
    ("float32", fx.TfidfVectorizer(dtype=np.float32), "dtype"),
]


def run(streamrun, pkg, texts):
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    p = subprocess.run([streamrun, "score", pkg], input=lines.encode("utf-8"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        failures.append("%s: streamrun score exited %d: %s" % (pkg, p.returncode, p.stderr.decode()[:500]))
        return None
    return [json.loads(x) for x in p.stdout.decode("utf-8").splitlines()]


def corpus():
    """The corpus's texts, the targets models are trained on (label, sport-or-other, a number),
    and the texts to score: the corpus, mutations of it and long texts."""
    with open(CORPUS, encoding="utf-8") as f:
        recs = [json.loads(x) for x in f]
    X = [r["text"] for r in recs]
    classes = sorted({r["label"] for r in recs})
    targets = {
        "label": [r["label"] for r in recs],
        "sport": ["sport" if r["label"] == "sport" else "other" for r in recs],
        "number": [float(classes.index(r["label"])) + 0.25 * len(r["text"]) % 3 for r in recs],
    }
    # and long texts, past what scoring holds in its scratch memory (it allocates for those)
    texts = X + mutations(X, 400) + [" ".join(X[i:] + X[:i]) for i in (0, 50, 100)]
    # a term whose murmurhash3_32 is -2**31 (|h| overflows 32 bits): column 2**31 mod n_features
    texts += ["aaycr\u52f4", "goal aaycr\u52f4 rain"]
    return X, targets, texts


def export_and_score(streamrun, work, name, model, X, y, texts):
    """Fits model on X, y, exports it to work/name and scores texts with it: the package's
    directory and the outputs, or None (a failure recorded)."""
    model.fit(X, y)
    pkl = os.path.join(work, name + ".pkl")
    with open(pkl, "wb") as f:
        pickle.dump(model, f)
    pkg = os.path.join(work, name)
    e = subprocess.run([sys.executable, EXPORT, pkl, pkg], stderr=subprocess.PIPE)
    if e.returncode != 0:
        failures.append("%s: export failed: %s" % (name, e.stderr.decode()))
        return pkg, None
    got = run(streamrun, pkg, texts)
    if got is not None and len(got) != len(texts):
        failures.append("%s: %d outputs for %d texts" % (name, len(got), len(texts)))
        return pkg, None
    return pkg, got


def compare(name, model, target, texts, got):
    """Records where got differs from scikit-learn's (target "number": a regressor); returns how
    many texts differ."""
    est = model.steps[-1][1]
    bad = 0
    if target == "number":
        want = model.predict(texts)
        for t, g, w in zip(texts, got, want):
            if abs(g["value"] - w) > TOL * max(1.0, abs(w)):
                bad += 1
                if bad <= 3:
                    failures.append("%s: %r: value %r, scikit-learn %r" % (name, t, g["value"], w))
    else:
        labels = model.predict(texts)
        probs = model.predict_proba(texts)
        for t, g, wl, wp in zip(texts, got, labels, probs):
            gp = [g["probabilities"][str(c)] for c in est.classes_]
            if g["label"] != str(wl) or max(abs(a - b) for a, b in zip(gp, wp)) > TOL:
                bad += 1
                if bad <= 3:
                    failures.append("%s: %r: %s %r, scikit-learn %s %r" % (name, t, g["label"], gp, wl, list(wp)))
    return bad


def main():
    streamrun, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    X, targets, texts = corpus()
    checked = 0
    for name, model, target in models():
        _, got = export_and_score(streamrun, work, name, model, X, targets[target], texts)
        if got is None:
            continue
        bad = compare(name, model, target, texts, got)
        print("%-36s %d texts, %d differ" % (name, len(texts), bad))
        checked += len(texts)
    for what, vec, attr in REFUSED:
        model = pipeline.make_pipeline(vec, linear_model.LogisticRegression(max_iter=500))
        model.fit(X, targets["label"])
        pkl = os.path.join(work, "refused.pkl")
        with open(pkl, "wb") as f:
            pickle.dump(model, f)
        e = subprocess.run([sys.executable, EXPORT, pkl, os.path.join(work, "refused")], stderr=subprocess.PIPE)
        msg = e.stderr.decode()
        if e.returncode != 1 or type(vec).__name__ not in msg or attr not in msg:
            failures.append("%s: expected a refusal naming %s and %s, got exit %d: %s"
                            % (what, type(vec).__name__, attr, e.returncode, msg))
        else:
            print("refused: %s" % msg.strip())
    svc = pipeline.make_pipeline(fx.TfidfVectorizer(), svm.SVC()).fit(X, targets["label"])
    with open(os.path.join(work, "svc.pkl"), "wb") as f:
        pickle.dump(svc, f)
    e = subprocess.run([sys.executable, EXPORT, os.path.join(work, "svc.pkl"), os.path.join(work, "svc")],
                       stderr=subprocess.PIPE)
    if e.returncode != 1 or "SVC" not in e.stderr.decode():
        failures.append("SVC after a vectorizer: expected a refusal naming SVC, got exit %d" % e.returncode)
    for f in failures[:40]:
        print("FAIL", f)
    print("%d scores compared, %d failures" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
