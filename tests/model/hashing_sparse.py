#!/usr/bin/env python3
"""hashing_sparse.py — text models over scikit-learn's default HashingVectorizer (2**20 columns,
of which the corpus fills about a thousand) exported by tools/sklearn_export.py in the sparse form
of coef, scored by `streamrun score` and compared with scikit-learn's predict and predict_proba
(or a regressor's predict) within 1e-9 on tests/model/text_corpus.jsonl, mutations of it and long
texts: a multinomial and a one-vs-rest logistic regression, a two-class one and a linear
regression. The two-class model is also written in the dense form (every one of the 2**20
numbers, as the exporter wrote it before): the sparse and the dense package must score every
text to the same bytes; the load time and peak memory of both are printed.

    python3 tests/model/hashing_sparse.py build/streamrun WORKDIR

Exit 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is set.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import text_compare as tc  # noqa: E402  (exits 77 without scikit-learn)
from sklearn import linear_model, pipeline  # noqa: E402
from sklearn.feature_extraction import text as fx  # noqa: E402

WIDTH = 2 ** 20


def models():
    lr = lambda **kw: linear_model.LogisticRegression(max_iter=2000, **kw)  # noqa: E731
    P = pipeline.make_pipeline
    return [
        ("hashing-2^20-multinomial", P(fx.HashingVectorizer(), lr()), "label"),
        ("hashing-2^20-ovr-bigrams", P(fx.HashingVectorizer(ngram_range=(1, 2)),
                                       lr(multi_class="ovr", solver="liblinear")), "label"),
        ("hashing-2^20-two-classes", P(fx.HashingVectorizer(alternate_sign=False), lr()), "sport"),
        ("hashing-2^20-linear-regression", P(fx.HashingVectorizer(norm=None),
                                             linear_model.LinearRegression()), "number"),
    ]


def score_bytes(streamrun, pkg, texts, work):
    """streamrun score's stdout for texts, its wall time and its peak RSS in KiB (from GNU time,
    0 without it: a child's own rusage would count the memory of this python3 it forks from)."""
    inp, outp = os.path.join(work, "in.jsonl"), os.path.join(work, "out.jsonl")
    rss_file = os.path.join(work, "rss")
    with open(inp, "w", encoding="utf-8") as f:
        f.write("".join(json.dumps({"text": t}) + "\n" for t in texts))
    cmd = [streamrun, "score", pkg, "--in", inp]
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    t0 = time.monotonic()
    with open(outp, "wb") as o:
        rc = subprocess.run(cmd, stdout=o, stderr=subprocess.DEVNULL).returncode
    secs = time.monotonic() - t0
    if rc != 0:
        tc.failures.append("%s: streamrun score exited %d" % (pkg, rc))
    rss = 0
    if os.path.exists(rss_file):
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
        os.remove(rss_file)
    with open(outp, "rb") as f:
        return f.read(), secs, rss


def dense_copy(pkg, out):
    """out: pkg with its sparse coef written densely, one number per column."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(pkg, out)
    with open(os.path.join(pkg, "model.json")) as f:
        doc = json.load(f)
    c = doc["coef"]
    rows = c["values"] if isinstance(c["values"][0], list) else [c["values"]]
    dense = []
    for r in rows:
        d = [0.0] * doc["n_features"]
        for col, v in zip(c["columns"], r):
            d[col] = v
        dense.append(d)
    doc["coef"] = dense if isinstance(c["values"][0], list) else dense[0]
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(doc, f)


def main():
    streamrun, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    X, targets, texts = tc.corpus()
    for name, model, target in models():
        pkg, got = tc.export_and_score(streamrun, work, name, model, X, targets[target], texts)
        if got is None:
            continue
        with open(os.path.join(pkg, "model.json")) as f:
            doc = json.load(f)
        coef = doc["coef"]
        if doc["n_features"] != WIDTH or not isinstance(coef, dict) or coef.get("sparse") is not True:
            tc.failures.append("%s: expected %d columns and the sparse form of coef, got %d and %s"
                               % (name, WIDTH, doc["n_features"], type(coef).__name__))
            continue
        bad = tc.compare(name, model, target, texts, got)
        print("%-34s %d of %d columns, %d texts, %d differ"
              % (name, len(coef["columns"]), WIDTH, len(texts), bad))
        if target == "sport":  # the same model written densely: the same bytes out
            dense = pkg + "-dense"
            dense_copy(pkg, dense)
            d_out, d_secs, d_rss = score_bytes(streamrun, dense, texts, work)
            s_out, s_secs, s_rss = score_bytes(streamrun, pkg, texts, work)
            if d_out != s_out:
                tc.failures.append("%s: the dense and the sparse form score differently" % name)
            size = lambda p: os.path.getsize(os.path.join(p, "model.json"))  # noqa: E731
            print("  dense model.json: %d bytes, scored in %.2f s, %d KiB peak RSS; sparse: %d "
                  "bytes, %.2f s, %d KiB (the same %d output bytes)"
                  % (size(dense), d_secs, d_rss, size(pkg), s_secs, s_rss, len(s_out)))
    for f in tc.failures[:40]:
        print("FAIL", f)
    print("%d failures" % len(tc.failures))
    return 1 if tc.failures else 0


if __name__ == "__main__":
    sys.exit(main())
