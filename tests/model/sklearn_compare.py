#!/usr/bin/env python3
"""sklearn_compare.py — trains every model kind on the datasets shipped with scikit-learn, exports
each with tools/sklearn_export.py, scores every row with `streamrun score` and compares with
scikit-learn's predict / predict_proba: the same labels, probabilities and values within 1e-9
(relative above 1). Tree models also get rows placed at, just below and just above each split
threshold, in float64 and in float32 (scikit-learn compares the float32 input).

    python3 tests/model/sklearn_compare.py build/streamrun WORKDIR

Exit 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is set.
"""

import contextlib
import importlib.util
import io
import json
import os
import pickle
import re
import subprocess
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = os.path.join(ROOT, "tools", "sklearn_export.py")



def require_sklearn():
    """Exits 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is
    set (then exits 1)."""
    try:
        import numpy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        if os.environ.get("STREAMRUN_REQUIRE_SKLEARN") or os.environ.get("CI"):
            print("scikit-learn is required here (CI): %s" % e)
            sys.exit(1)
        print("SKIP: scikit-learn is not installed (%s); apt-get install python3-sklearn" % e)
        sys.exit(77)


require_sklearn()
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import datasets, ensemble, linear_model, pipeline, preprocessing, svm, tree  # noqa: E402

warnings.filterwarnings("ignore")
TOL = 1e-9
ONLY = os.environ.get("STREAMRUN_MODEL_ONLY")  # a part of the names of the models to check
failures = []
checked = 0


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def names_of(ds):
    return [str(n).replace(",", ";") for n in ds.feature_names]


def export(work, name, est, features, labels=None, expect_refusal=None, names_in=False, extra=()):
    """names_in: the names come from the estimator's feature_names_in_, not --features; extra:
    more arguments."""
    pkl = os.path.join(work, name + ".pkl")
    with open(pkl, "wb") as f:
        pickle.dump(est, f)
    out = os.path.join(work, name)
    cmd = [sys.executable, EXPORT, pkl, out] + ([] if names_in else ["--features", ",".join(features)])
    if labels:
        cmd += ["--labels", ",".join(labels)]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if expect_refusal:
        if r.returncode != 1 or expect_refusal not in r.stderr:
            fail("%s: expected a refusal naming %r, got exit %d: %s" % (name, expect_refusal, r.returncode, r.stderr))
        else:
            print("ok   %s: %s" % (name, r.stderr.strip()))
        return None
    if r.returncode != 0:
        fail("%s: export failed: %s" % (name, r.stderr))
        return None
    return out


EXPORTER = None


def refused_in_process(work, name, est, features, what):
    """As export(..., expect_refusal=what), the exporter's main() called in this process (a
    subprocess costs a second of imports; the many refusals checked here would take a minute)."""
    global EXPORTER
    if EXPORTER is None:
        spec = importlib.util.spec_from_file_location("sklearn_export", EXPORT)
        EXPORTER = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(EXPORTER)
    pkl = os.path.join(work, name + ".pkl")
    with open(pkl, "wb") as f:
        pickle.dump(est, f)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = EXPORTER.main([pkl, os.path.join(work, name), "--features", ",".join(features)])
    if rc != 1 or what not in err.getvalue():
        fail("%s: expected a refusal naming %r, got exit %d: %s" % (name, what, rc, err.getvalue()))
    else:
        print("ok   %s: %s" % (name, err.getvalue().strip()))


def score(streamrun, pkg, rows, features):
    inp = "\n".join(json.dumps({f: float(v) for f, v in zip(features, row)}) for row in rows) + "\n"
    r = subprocess.run([streamrun, "score", pkg], input=inp, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("streamrun score %s: exit %d: %s" % (pkg, r.returncode, r.stderr[:2000]))
    return [json.loads(line) for line in r.stdout.splitlines()]


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def threshold_rows(est, X, limit=300):
    """Rows of X with one feature set at, just below and just above a split threshold, as float64
    and as the float32 values around it."""
    trees = []
    if hasattr(est, "tree_"):
        trees = [est]
    elif hasattr(est, "estimators_"):
        trees = list(np.asarray(est.estimators_).ravel())
    pairs = []
    for t in trees:
        tt = t.tree_
        for i in range(tt.node_count):
            if tt.children_left[i] != -1:
                pairs.append((int(tt.feature[i]), float(tt.threshold[i])))
    rng = np.random.RandomState(0)
    if len(pairs) > limit:
        pairs = [pairs[i] for i in rng.choice(len(pairs), limit, replace=False)]
    rows = []
    for k, (f, thr) in enumerate(pairs):
        t32 = np.float32(thr)
        for v in (
            thr,
            np.nextafter(thr, -np.inf),
            np.nextafter(thr, np.inf),
            float(t32),
            float(np.nextafter(t32, np.float32(-np.inf))),
            float(np.nextafter(t32, np.float32(np.inf))),
        ):
            row = X[k % len(X)].copy()
            row[f] = v
            rows.append(row)
    return np.array(rows)


def compare(streamrun, work, name, est, X, features, labels=None, names_in=False):
    global checked
    if ONLY and ONLY not in name:
        return
    pkg = export(work, name, est, features, labels, names_in=names_in)
    if pkg is None:
        return
    rows = X
    inner = est.steps[-1][1] if hasattr(est, "steps") else est
    if hasattr(inner, "tree_") or hasattr(inner, "estimators_"):
        rows = np.vstack([X, threshold_rows(inner, X)])
    got = score(streamrun, pkg, rows, features)
    if len(got) != len(rows):
        fail("%s: %d lines for %d rows" % (name, len(got), len(rows)))
        return
    bad = 0
    if hasattr(est, "predict_proba") and hasattr(est, "classes_"):
        want_label = est.predict(rows)
        want_proba = est.predict_proba(rows)
        names = labels or [str(c) for c in est.classes_]
        for i, g in enumerate(got):
            wl = names[list(est.classes_).index(want_label[i])]
            probs = [g["probabilities"][n] for n in names]
            if g["label"] != wl or g["label_index"] != names.index(wl) or not all(
                close(a, b) for a, b in zip(probs, want_proba[i])
            ):
                bad += 1
                if bad <= 3:
                    fail("%s row %d: got %s, sklearn %s %s" % (name, i, g, wl, list(want_proba[i])))
    else:
        want = est.predict(rows)
        for i, g in enumerate(got):
            if not close(g["value"], float(want[i])):
                bad += 1
                if bad <= 3:
                    fail("%s row %d: got %r, sklearn %r" % (name, i, g["value"], float(want[i])))
    checked += len(rows)
    print("%s %s: %d rows" % ("ok  " if bad == 0 else "FAIL", name, len(rows)))
    if bad > 3:
        fail("%s: %d rows differ in all" % (name, bad))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    streamrun, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    print("scikit-learn %s" % sklearn.__version__)

    iris, wine, cancer, diabetes = (
        datasets.load_iris(),
        datasets.load_wine(),
        datasets.load_breast_cancer(),
        datasets.load_diabetes(),
    )
    rs = 0
    for ds_name, ds in (("iris", iris), ("wine", wine), ("cancer", cancer)):
        X, y, feats = ds.data, ds.target, names_of(ds)
        labels = [str(n) for n in ds.target_names]
        models = {
            "logistic": linear_model.LogisticRegression(max_iter=5000),
            "logistic-ovr": linear_model.LogisticRegression(multi_class="ovr", max_iter=5000),
            "logistic-liblinear": linear_model.LogisticRegression(solver="liblinear"),
            "logistic-multinomial": linear_model.LogisticRegression(multi_class="multinomial", max_iter=5000),
            "tree": tree.DecisionTreeClassifier(random_state=rs),
            "tree-depth3": tree.DecisionTreeClassifier(max_depth=3, random_state=rs),
            "forest": ensemble.RandomForestClassifier(n_estimators=30, random_state=rs),
            "boosting": ensemble.GradientBoostingClassifier(n_estimators=30, random_state=rs),
            "boosting-zero-init": ensemble.GradientBoostingClassifier(n_estimators=10, init="zero", random_state=rs),
        }
        if ds_name == "cancer":
            models["boosting-exponential"] = ensemble.GradientBoostingClassifier(
                loss="exponential", n_estimators=30, random_state=rs
            )
        # scored as the kinds above: LogisticRegressionCV as LogisticRegression, SGDClassifier
        # (log loss) as a one-vs-rest logistic regression, binary on cancer, else multiclass
        models.update(
            {
                "logistic-cv": linear_model.LogisticRegressionCV(Cs=3, cv=3, max_iter=5000),
                "logistic-cv-ovr": linear_model.LogisticRegressionCV(Cs=3, cv=3, multi_class="ovr", max_iter=5000),
                "extra-tree": tree.ExtraTreeClassifier(random_state=rs),
                "extra-trees": ensemble.ExtraTreesClassifier(n_estimators=30, random_state=rs),
                "extra-trees-depth4": ensemble.ExtraTreesClassifier(n_estimators=20, max_depth=4, random_state=rs),
            }
        )
        for mname, est in models.items():
            est.fit(X, y)
            compare(streamrun, work, "%s-%s" % (ds_name, mname), est, X, feats, labels)
        # stochastic gradient descent on standardized rows (on the raw ones its steps diverge)
        Xs = preprocessing.StandardScaler().fit_transform(X)
        sgd = {
            "sgd-log-loss": linear_model.SGDClassifier(loss="log_loss", random_state=rs),
            "sgd-log-loss-averaged": linear_model.SGDClassifier(loss="log_loss", average=True, random_state=rs),
            "sgd-log-deprecated-name": linear_model.SGDClassifier(loss="log", alpha=1e-2, random_state=rs),
        }
        for mname, est in sgd.items():
            est.fit(Xs, y)
            compare(streamrun, work, "%s-%s" % (ds_name, mname), est, Xs, feats, labels)
        # class names from classes_ when no --labels: here the integers 0, 1, ...
        est = tree.DecisionTreeClassifier(max_depth=4, random_state=rs).fit(X, y)
        compare(streamrun, work, "%s-tree-numeric-classes" % ds_name, est, X, feats)

    X, y, feats = diabetes.data, diabetes.target, names_of(diabetes)
    regs = {
        "linear": linear_model.LinearRegression(),
        "tree": tree.DecisionTreeRegressor(random_state=rs),
        "forest": ensemble.RandomForestRegressor(n_estimators=30, random_state=rs),
        "boosting": ensemble.GradientBoostingRegressor(n_estimators=30, random_state=rs),
        "boosting-huber": ensemble.GradientBoostingRegressor(loss="huber", n_estimators=20, random_state=rs),
        "boosting-quantile": ensemble.GradientBoostingRegressor(loss="quantile", alpha=0.8, n_estimators=20, random_state=rs),
        "boosting-absolute": ensemble.GradientBoostingRegressor(loss="absolute_error", n_estimators=20, random_state=rs),
        # scored as linear_regression: predict is X @ coef_ + intercept_
        "ridge": linear_model.Ridge(alpha=0.5),
        "ridge-cv": linear_model.RidgeCV(),
        "lasso": linear_model.Lasso(alpha=0.1),
        "lasso-cv": linear_model.LassoCV(cv=3, random_state=rs),
        "elastic-net": linear_model.ElasticNet(alpha=0.01, l1_ratio=0.3),
        "elastic-net-cv": linear_model.ElasticNetCV(cv=3, random_state=rs),
        "lars": linear_model.Lars(),
        "lars-cv": linear_model.LarsCV(cv=3),
        "lasso-lars": linear_model.LassoLars(alpha=0.05),
        "lasso-lars-cv": linear_model.LassoLarsCV(cv=3),
        "lasso-lars-ic": linear_model.LassoLarsIC(),
        "omp": linear_model.OrthogonalMatchingPursuit(n_nonzero_coefs=4),
        "omp-cv": linear_model.OrthogonalMatchingPursuitCV(cv=3),
        "bayesian-ridge": linear_model.BayesianRidge(),
        "ard": linear_model.ARDRegression(),
        "huber": linear_model.HuberRegressor(max_iter=1000),
        "theil-sen": linear_model.TheilSenRegressor(max_subpopulation=500, random_state=rs),
        "quantile": linear_model.QuantileRegressor(quantile=0.7, alpha=0.01, solver="highs"),
        "sgd": linear_model.SGDRegressor(random_state=rs),
        "sgd-averaged": linear_model.SGDRegressor(average=True, random_state=rs),
        "passive-aggressive": linear_model.PassiveAggressiveRegressor(random_state=rs),
        "linear-svr": svm.LinearSVR(max_iter=20000, random_state=rs),
        # scored as decision_tree and random_forest
        "extra-tree": tree.ExtraTreeRegressor(random_state=rs),
        "extra-trees": ensemble.ExtraTreesRegressor(n_estimators=30, random_state=rs),
    }
    for mname, est in regs.items():
        est.fit(X, y)
        compare(streamrun, work, "diabetes-%s" % mname, est, X, feats)

    # a scaler folded into a linear model when that is exact: zero means, powers-of-two scales
    sc = preprocessing.StandardScaler(with_mean=False).fit(X)
    sc.scale_ = 2.0 ** np.round(np.log2(sc.scale_))
    lin = linear_model.LinearRegression().fit(sc.transform(X), y)
    pipe = pipeline.Pipeline([("scale", sc), ("linear", lin)])
    compare(streamrun, work, "diabetes-pipeline-exact-scaler", pipe, X, feats)

    # input names from feature_names_in_ (as fitting on a data frame sets it; set here, since
    # pandas may be absent)
    est = ensemble.RandomForestRegressor(n_estimators=5, random_state=rs).fit(X, y)
    est.feature_names_in_ = np.array(["in_" + f for f in feats], dtype=object)
    compare(streamrun, work, "diabetes-forest-feature-names-in", est, X, list(est.feature_names_in_), names_in=True)

    # refusals: never exported wrongly
    Xi, yi = iris.data, iris.target
    fi = names_of(iris)
    inexact = pipeline.Pipeline(
        [("scale", preprocessing.StandardScaler()), ("lr", linear_model.LogisticRegression(max_iter=1000))]
    ).fit(Xi, yi)
    export(work, "refuse-scaler", inexact, fi, expect_refusal="StandardScaler")
    from sklearn import decomposition, naive_bayes

    pca = pipeline.Pipeline(
        [("pca", decomposition.PCA(2)), ("lr", linear_model.LogisticRegression(max_iter=1000))]
    ).fit(Xi, yi)
    export(work, "refuse-pca", pca, fi, expect_refusal="PCA")
    export(work, "refuse-svc", svm.SVC().fit(Xi, yi), fi, expect_refusal="SVC")
    gb_init = ensemble.GradientBoostingRegressor(init=linear_model.LinearRegression(), n_estimators=5).fit(X, y)
    export(work, "refuse-init", gb_init, feats, expect_refusal="init=LinearRegression")
    export(work, "refuse-features", tree.DecisionTreeRegressor().fit(X, y), feats[:3], expect_refusal="feature names")
    export(work, "refuse-integer", tree.DecisionTreeRegressor().fit(X, y), feats, expect_refusal="--integer names bmi2",
           extra=["--integer", "age,bmi2"])
    # every estimator refused by name gets a message naming it (and a Pipeline ending with one)
    Xc, yc, fc = cancer.data, cancer.target, names_of(cancer)
    refused = [
        ("HistGradientBoostingClassifier", ensemble.HistGradientBoostingClassifier(max_iter=5), Xi, yi),
        ("HistGradientBoostingRegressor", ensemble.HistGradientBoostingRegressor(max_iter=5), X, y),
        ("LinearSVC", svm.LinearSVC(max_iter=20000), Xi, yi),
        ("SVC", svm.SVC(probability=True, random_state=rs), Xi, yi),
        ("NuSVC", svm.NuSVC(), Xi, yi),
        ("SVR", svm.SVR(), X, y),
        ("NuSVR", svm.NuSVR(), X, y),
        ("RidgeClassifier", linear_model.RidgeClassifier(), Xi, yi),
        ("RidgeClassifierCV", linear_model.RidgeClassifierCV(), Xi, yi),
        ("Perceptron", linear_model.Perceptron(), Xi, yi),
        ("PassiveAggressiveClassifier", linear_model.PassiveAggressiveClassifier(), Xi, yi),
        ("PoissonRegressor", linear_model.PoissonRegressor(), X, y),
        ("GammaRegressor", linear_model.GammaRegressor(), X, y),
        ("TweedieRegressor", linear_model.TweedieRegressor(power=1.5), X, y),
        ("AdaBoostClassifier", ensemble.AdaBoostClassifier(n_estimators=5), Xi, yi),
        ("AdaBoostRegressor", ensemble.AdaBoostRegressor(n_estimators=5), X, y),
        ("BaggingClassifier", ensemble.BaggingClassifier(n_estimators=3), Xi, yi),
        ("BaggingRegressor", ensemble.BaggingRegressor(n_estimators=3), X, y),
        ("IsolationForest", ensemble.IsolationForest(n_estimators=5, random_state=rs), X, None),
        ("SGDClassifier with loss='hinge'", linear_model.SGDClassifier(), Xi, yi),
        ("SGDClassifier with loss='modified_huber'", linear_model.SGDClassifier(loss="modified_huber"), Xc, yc),
        ("Ridge with 2 targets", linear_model.Ridge(), X, np.c_[y, -y]),
        ("Lasso with 2 targets", linear_model.Lasso(), X, np.c_[y, -y]),
        ("GaussianNB", naive_bayes.GaussianNB(), Xi, yi),
    ]
    for what, est, Xr, yr in refused:
        est.fit(Xr, yr)
        fr = fi if Xr is Xi else fc if Xr is Xc else feats
        slug = re.sub("[^a-z0-9]+", "-", what.lower()).strip("-")
        refused_in_process(work, "refuse-" + slug, est, fr, what)
        if " " not in what:
            refused_in_process(work, "refuse-pipeline-" + slug, pipeline.Pipeline([("m", est)]), fr, what)

    print("%d rows compared, %d failures" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
