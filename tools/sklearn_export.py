#!/usr/bin/env python3
"""sklearn_export.py — turns a pickled, fitted scikit-learn estimator into a streamrun model package.

    python3 tools/sklearn_export.py MODEL.pkl OUT_DIR [--features a,b,...] [--labels x,y,...]
                                    [--integer a,b,...]

MODEL.pkl holds one fitted estimator, or a Pipeline whose last step is one: LinearRegression and
the other linear regressors of LINEAR_REGRESSORS (Ridge, Lasso, ElasticNet, SGDRegressor, ...),
LogisticRegression(CV), SGDClassifier with loss="log_loss", DecisionTree/ExtraTree
Classifier/Regressor, RandomForest/ExtraTrees Classifier/Regressor, GradientBoosting
Classifier/Regressor; or a text classifier: a Pipeline of CountVectorizer,
HashingVectorizer or TfidfVectorizer (or CountVectorizer then TfidfTransformer) before a
LinearRegression or LogisticRegression, whose one input is a STRING (named by --features, default
"text"). A vectorizer with a callable analyzer, tokenizer or preprocessor, char n-grams,
stop_words, strip_accents, another token_pattern than (?u)\b\w\w+\b or (?u)\b\w+\b, or a
float32 dtype is refused. A text model whose columns mostly have no coefficient (a
HashingVectorizer's 2**20) gets coef in the sparse form. A StandardScaler before a LinearRegression or a
LogisticRegression ("passthrough" steps aside) is folded into its coefficients only when that is exact: the scaler's scales are
powers of two and its means zero; anything else is refused. OUT_DIR gets config.json and
model.json (the format is in README.md, "Model packages").

Input names come from the estimator's feature_names_in_ or --features; class names from classes_
or --labels. Inputs are DOUBLE, except those named by --integer (INTEGER: a record must give a
JSON integer; say so for inputs the model was trained on as integers). An estimator that cannot be exported exactly is refused with its name (exit 1).
Loading a pickle runs code from it: export only pickles you trust.
"""

import argparse
import json
import math
import os
import pickle
import sys

FORMAT = "streamrun-model"
VERSION = 1


class Refused(Exception):
    """The estimator cannot be exported exactly."""


def name_of(obj):
    return type(obj).__name__


def floats(values):
    out = []
    for v in values:
        f = float(v)
        if not math.isfinite(f):
            raise Refused("a value is not finite (%r)" % f)
        out.append(f)
    return out


# ---- linear models ---------------------------------------------------------------------------


def export_linear_regression(est):
    import numpy as np

    coef = np.asarray(est.coef_, dtype=np.float64)
    if coef.ndim != 1:
        if coef.shape[0] != 1:
            raise Refused("LinearRegression with %d targets (one target only)" % coef.shape[0])
        coef = coef[0]
    icpt = np.asarray(est.intercept_, dtype=np.float64).reshape(-1)
    if icpt.size != 1:
        raise Refused("LinearRegression with several intercepts")
    return {"kind": "linear_regression", "coef": floats(coef), "intercept": float(icpt[0])}, None


def sparse_coef(coef, width):
    """A text model's coef (n_features numbers, or rows of them) in the sparse form when most
    columns have no coefficient in any row (a HashingVectorizer's 2**20 columns, of which a
    corpus fills a few thousand): {"sparse": true, "columns": those that have one, "values": the
    numbers there (a list, or rows, as coef)}; else coef as it is."""
    import numpy as np

    rows = np.asarray(coef, dtype=np.float64).reshape(-1, width)
    cols = np.flatnonzero(np.any(rows != 0.0, axis=0))
    if 2 * cols.size >= width:
        return coef
    values = [floats(r[cols]) for r in rows]
    return {"sparse": True, "columns": [int(c) for c in cols],
            "values": values if isinstance(coef[0], list) else values[0]}


def logistic_is_ovr(est):
    """As LogisticRegression.predict_proba in scikit-learn 1.2 decides."""
    return est.multi_class in ("ovr", "warn") or (
        est.multi_class == "auto" and (est.classes_.size <= 2 or est.solver == "liblinear")
    )


def export_logistic_regression(est):
    import numpy as np

    coef = np.asarray(est.coef_, dtype=np.float64)
    icpt = np.asarray(est.intercept_, dtype=np.float64).reshape(-1)
    if coef.ndim != 2 or coef.shape[0] != icpt.size:
        raise Refused("LogisticRegression with coef_ of shape %s" % (coef.shape,))
    return {
        "kind": "logistic_regression",
        "multi_class": "ovr" if logistic_is_ovr(est) else "multinomial",
        "coef": [floats(row) for row in coef],
        "intercept": floats(icpt),
    }, list(est.classes_)


# ---- trees -----------------------------------------------------------------------------------


def tree_nodes(tree, classes):
    """A fitted sklearn Tree as a list of nodes: leaves {"value": [...]}, splits with
    feature/threshold/left/right. classes: leaves keep the class weights, else one value."""
    t = tree.tree_
    if t.n_outputs != 1:
        raise Refused("%s with %d outputs (one output only)" % (name_of(tree), t.n_outputs))
    nodes = []
    for i in range(t.node_count):
        left, right = int(t.children_left[i]), int(t.children_right[i])
        if left == -1:
            value = t.value[i, 0, :] if classes else t.value[i, 0, :1]
            nodes.append({"value": floats(value)})
        else:
            if left <= i or right <= i:
                raise Refused("%s: node %d has a child before it" % (name_of(tree), i))
            nodes.append(
                {
                    "feature": int(t.feature[i]),
                    "threshold": float(t.threshold[i]),
                    "left": left,
                    "right": right,
                }
            )
    return nodes


def check_classes(est, trees):
    for tr in trees:
        if getattr(tr, "n_outputs_", 1) != 1 or tr.tree_.value.shape[2] != len(est.classes_):
            raise Refused("%s whose trees do not all have %d classes" % (name_of(est), len(est.classes_)))


def export_decision_tree(est, classifier):
    doc = {"kind": "decision_tree", "task": "classification" if classifier else "regression"}
    if classifier:
        check_classes(est, [est])
        doc["n_classes"] = len(est.classes_)
    doc["trees"] = [tree_nodes(est, classifier)]
    return doc, list(est.classes_) if classifier else None


def export_random_forest(est, classifier):
    doc = {"kind": "random_forest", "task": "classification" if classifier else "regression"}
    if classifier:
        check_classes(est, est.estimators_)
        doc["n_classes"] = len(est.classes_)
    doc["trees"] = [tree_nodes(t, classifier) for t in est.estimators_]
    return doc, list(est.classes_) if classifier else None


def export_gradient_boosting(est, classifier):
    import numpy as np

    loss = name_of(est._loss)
    init = est.init_
    if not (isinstance(init, str) and init == "zero") and name_of(init) not in (
        "DummyClassifier",
        "DummyRegressor",
    ):
        raise Refused("%s with init=%s (the prior, the mean or 'zero' only)" % (name_of(est), name_of(init)))
    if name_of(init) == "DummyClassifier" and init.strategy != "prior":
        raise Refused("%s with a DummyClassifier init of strategy %r" % (name_of(est), init.strategy))
    if name_of(init) == "DummyRegressor" and init.strategy not in ("mean", "median", "quantile"):
        raise Refused("%s with a DummyRegressor init of strategy %r" % (name_of(est), init.strategy))
    # the initial raw prediction does not depend on X for these inits
    zero = np.zeros((1, est.n_features_in_), dtype=np.float32)
    raw0 = np.asarray(est._raw_predict_init(zero), dtype=np.float64)[0]
    doc = {"kind": "gradient_boosting", "task": "classification" if classifier else "regression"}
    if classifier:
        known = {"BinomialDeviance": "log_loss", "MultinomialDeviance": "log_loss", "ExponentialLoss": "exponential"}
        if loss not in known:
            raise Refused("%s with the loss %s" % (name_of(est), loss))
        doc["n_classes"] = len(est.classes_)
        doc["loss"] = known[loss]
    elif loss not in ("LeastSquaresError", "LeastAbsoluteError", "HuberLossFunction", "QuantileLossFunction"):
        raise Refused("%s with the loss %s" % (name_of(est), loss))
    doc["learning_rate"] = float(est.learning_rate)
    doc["init"] = floats(raw0)
    doc["stages"] = [[tree_nodes(t, False) for t in stage] for stage in est.estimators_]
    return doc, list(est.classes_) if classifier else None


# ---- other estimators scored exactly as the kinds above ----------------------------------------

# predict is X @ coef_ + intercept_ (LinearModel._decision_function, or BaseSGDRegressor's), as
# LinearRegression's, in scikit-learn 1.2
LINEAR_REGRESSORS = (
    "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV", "Lars", "LarsCV",
    "LassoLars", "LassoLarsCV", "LassoLarsIC", "OrthogonalMatchingPursuit",
    "OrthogonalMatchingPursuitCV", "BayesianRidge", "ARDRegression", "HuberRegressor",
    "TheilSenRegressor", "QuantileRegressor", "SGDRegressor", "PassiveAggressiveRegressor",
    "LinearSVR",
)
# predict_proba is LogisticRegression's (LogisticRegressionCV inherits it; SGDClassifier with a
# log loss is _predict_proba_lr, LogisticRegression's one-vs-rest)
LOGISTIC_CLASSIFIERS = ("LogisticRegressionCV", "SGDClassifier")
SINGLE_TREES = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor")
# predict_proba / predict is the average of the trees', as RandomForest*'s (ForestClassifier,
# ForestRegressor)
FORESTS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")

NO_PROBABILITIES = "it has no predict_proba, and a classifier's package gives probabilities"
# estimators refused by name, with the reason
REFUSED = {
    "HistGradientBoostingClassifier": "its trees send missing values their own way and may split on categories, "
    "which the gradient_boosting kind does not (a GradientBoostingClassifier exports)",
    "HistGradientBoostingRegressor": "its trees send missing values their own way and may split on categories, "
    "which the gradient_boosting kind does not (a GradientBoostingRegressor exports)",
    "LinearSVC": NO_PROBABILITIES,
    "RidgeClassifier": NO_PROBABILITIES,
    "RidgeClassifierCV": NO_PROBABILITIES,
    "Perceptron": NO_PROBABILITIES,
    "PassiveAggressiveClassifier": NO_PROBABILITIES,
    "SVC": "a kernel support vector machine (with probability=True, libsvm's Platt scaling) is not a kind "
    "streamrun scores",
    "NuSVC": "a kernel support vector machine is not a kind streamrun scores",
    "SVR": "a kernel support vector machine is not a kind streamrun scores",
    "NuSVR": "a kernel support vector machine is not a kind streamrun scores",
    "PoissonRegressor": "it predicts exp(X @ coef_ + intercept_) (a log link), not a linear regression",
    "GammaRegressor": "it predicts exp(X @ coef_ + intercept_) (a log link), not a linear regression",
    "TweedieRegressor": "it predicts through a link function, not a linear regression",
    "AdaBoostClassifier": "its weighted vote of estimators is not a kind streamrun scores",
    "AdaBoostRegressor": "its weighted median of estimators is not a kind streamrun scores",
    "BaggingClassifier": "its estimators see feature subsets, which no kind streamrun scores does",
    "BaggingRegressor": "its estimators see feature subsets, which no kind streamrun scores does",
    "IsolationForest": "an anomaly score is not a kind streamrun scores",
}


def refuse_by_name(kind):
    """Refused: the estimator's name and why (or that it is not a kind streamrun scores)."""
    if kind in REFUSED:
        raise Refused("%s is not exported: %s" % (kind, REFUSED[kind]))
    raise Refused("%s is not a kind streamrun scores" % kind)


def export_linear_regressor(est):
    """A linear regressor of LINEAR_REGRESSORS, as a linear_regression: one target only."""
    import numpy as np

    coef = np.asarray(est.coef_)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise Refused("%s with %d targets (one target only)" % (name_of(est), coef.shape[0]))
    if np.asarray(est.intercept_).size != 1:
        raise Refused("%s with %d intercepts (one only)" % (name_of(est), np.asarray(est.intercept_).size))
    return export_linear_regression(est)


def export_logistic_classifier(est):
    """LogisticRegressionCV as LogisticRegression; SGDClassifier only with a log loss, whose
    predict_proba is one-vs-rest for any number of classes (modified_huber's is not a logistic,
    the other losses have no predict_proba)."""
    import numpy as np

    if name_of(est) == "LogisticRegressionCV":
        return export_logistic_regression(est)
    if est.loss not in ("log_loss", "log"):
        raise Refused("SGDClassifier with loss=%r (only loss=\"log_loss\" gives logistic probabilities)" % (est.loss,))
    coef = np.asarray(est.coef_, dtype=np.float64)
    icpt = np.asarray(est.intercept_, dtype=np.float64).reshape(-1)
    rows = 1 if len(est.classes_) == 2 else len(est.classes_)
    if coef.shape != (rows, est.n_features_in_) or icpt.size != rows:
        raise Refused("SGDClassifier with coef_ of shape %s for %d classes" % (coef.shape, len(est.classes_)))
    return {
        "kind": "logistic_regression",
        "multi_class": "ovr",
        "coef": [floats(row) for row in coef],
        "intercept": floats(icpt),
    }, list(est.classes_)


# ---- pipelines -------------------------------------------------------------------------------


def fold_scaler(scaler, est):
    """StandardScaler then LinearRegression: (x - mean) / scale @ coef is x @ (coef / scale) -
    mean / scale @ coef in exact arithmetic only; exact in floating point when every mean is 0
    and every scale a power of two. Refuses otherwise."""
    import numpy as np

    mean = getattr(scaler, "mean_", None)
    scale = getattr(scaler, "scale_", None)
    if scaler.with_mean and mean is not None and np.any(mean != 0):
        raise Refused("StandardScaler with non-zero means before %s (folding it would round differently)" % name_of(est))
    if scaler.with_std and scale is not None:
        mant = [math.frexp(float(s))[0] for s in scale]
        if any(m != 0.5 for m in mant):
            raise Refused(
                "StandardScaler with scales that are not powers of two before %s (folding it would round differently)"
                % name_of(est)
            )
    return scale if scaler.with_std else None


# ---- text vectorizers -------------------------------------------------------------------------

VECTORIZERS = ("CountVectorizer", "HashingVectorizer", "TfidfVectorizer")
TOKEN_PATTERNS = (r"(?u)\b\w\w+\b", r"(?u)\b\w+\b")


def export_vectorizer(vec, tfidf=None):
    """The "text" member of model.json for a fitted vectorizer (and a TfidfTransformer after a
    CountVectorizer), and its number of columns. Refuses what streamrun does not do exactly."""
    import numpy as np

    kind = name_of(vec)
    if vec.analyzer != "word":
        raise Refused("%s with analyzer=%r (word n-grams only)" % (kind, vec.analyzer))
    for attr in ("tokenizer", "preprocessor", "stop_words", "strip_accents"):
        if getattr(vec, attr) is not None:
            raise Refused("%s with %s=%r (None only)" % (kind, attr, getattr(vec, attr)))
    if vec.input != "content":
        raise Refused("%s with input=%r (content only)" % (kind, vec.input))
    if vec.token_pattern not in TOKEN_PATTERNS:
        raise Refused("%s with token_pattern=%r (%s only)" % (kind, vec.token_pattern, " or ".join(TOKEN_PATTERNS)))
    if np.dtype(vec.dtype) not in (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int32)):
        raise Refused("%s with dtype=%s (float64 or integers only)" % (kind, np.dtype(vec.dtype)))
    lo, hi = vec.ngram_range
    text = {
        "vectorizer": {"CountVectorizer": "count", "HashingVectorizer": "hashing", "TfidfVectorizer": "tfidf"}[kind],
        "lowercase": bool(vec.lowercase),
        "token_pattern": vec.token_pattern,
        "ngram_range": [int(lo), int(hi)],
        "binary": bool(vec.binary),
    }
    if kind == "HashingVectorizer":
        text["alternate_sign"] = bool(vec.alternate_sign)
        if vec.norm not in ("l1", "l2", None):
            raise Refused("HashingVectorizer with norm=%r" % (vec.norm,))
        text["norm"] = vec.norm
        return text, int(vec.n_features)
    vocab = vec.vocabulary_
    text["vocabulary"] = {str(t): int(c) for t, c in sorted(vocab.items(), key=lambda kv: kv[1])}
    width = len(vocab)
    if kind == "TfidfVectorizer":
        tfidf = vec
    if tfidf is not None:
        text["vectorizer"] = "tfidf"
        if tfidf.norm not in ("l1", "l2", None):
            raise Refused("%s with norm=%r" % (name_of(tfidf), tfidf.norm))
        text["norm"] = tfidf.norm
        text["sublinear_tf"] = bool(tfidf.sublinear_tf)
        if tfidf.use_idf:
            idf = np.asarray(tfidf.idf_, dtype=np.float64)
            if idf.shape != (width,):
                raise Refused("%s with %d idf weights for %d terms" % (name_of(tfidf), idf.size, width))
            text["idf"] = floats(idf)
    return text, width


def unwrap(obj):
    """The estimator to export, and a scaler's scales to fold into it (or None)."""
    if name_of(obj) != "Pipeline":
        return obj, None
    steps = [s for _, s in obj.steps if s is not None and not (isinstance(s, str) and s == "passthrough")]
    if not steps:
        raise Refused("an empty Pipeline")
    last, before = steps[-1], steps[:-1]
    if not before:
        if name_of(last) in VECTORIZERS:
            raise Refused("a Pipeline of only %s (a linear model must follow it)" % name_of(last))
        return last, None
    if name_of(before[0]) in VECTORIZERS:
        rest = before[1:]
        tfidf = None
        if name_of(before[0]) == "CountVectorizer" and len(rest) == 1 and name_of(rest[0]) == "TfidfTransformer":
            tfidf, rest = rest[0], []
        if rest:
            raise Refused("Pipeline step %s after %s (a vectorizer, then a linear model)" % (name_of(rest[0]), name_of(before[0])))
        if name_of(last) not in ("LinearRegression", "LogisticRegression"):
            raise Refused("%s after %s (a text model ends in LinearRegression or LogisticRegression)" % (name_of(last), name_of(before[0])))
        return last, ("text",) + export_vectorizer(before[0], tfidf)
    if len(before) == 1 and name_of(before[0]) == "StandardScaler" and name_of(last) in ("LinearRegression", "LogisticRegression"):
        return last, fold_scaler(before[0], last)
    raise Refused(
        "Pipeline step %s before %s (only a final estimator, or an exact StandardScaler before a LinearRegression)"
        % (name_of(before[0]), name_of(last))
    )


def export(obj):
    est, scale = unwrap(obj)
    text = None
    if isinstance(scale, tuple):  # a text model: the vectorizer, not a scaler
        text, scale = scale[1:], None
    kind = name_of(est)
    if not hasattr(est, "n_features_in_"):
        raise Refused("%s is not fitted" % kind)
    if kind == "LinearRegression":
        doc, classes = export_linear_regression(est)
        if scale is not None:
            doc["coef"] = [c / float(s) for c, s in zip(doc["coef"], scale)]
    elif kind == "LogisticRegression":
        doc, classes = export_logistic_regression(est)
        if scale is not None:
            doc["coef"] = [[c / float(s) for c, s in zip(row, scale)] for row in doc["coef"]]
    elif kind in LINEAR_REGRESSORS:
        doc, classes = export_linear_regressor(est)
    elif kind in LOGISTIC_CLASSIFIERS:
        doc, classes = export_logistic_classifier(est)
    elif kind in SINGLE_TREES:
        doc, classes = export_decision_tree(est, kind.endswith("Classifier"))
    elif kind in FORESTS:
        doc, classes = export_random_forest(est, kind.endswith("Classifier"))
    elif kind in ("GradientBoostingClassifier", "GradientBoostingRegressor"):
        doc, classes = export_gradient_boosting(est, kind.endswith("Classifier"))
    else:
        refuse_by_name(kind)
    if text is not None:
        doc["text"], width = text
        if int(est.n_features_in_) != width:
            raise Refused("%s takes %d columns, the vectorizer makes %d" % (kind, est.n_features_in_, width))
        doc["coef"] = sparse_coef(doc["coef"], width)
    return est, doc, classes


def input_schema(names, integer):
    """input_schema: every input DOUBLE but those named in integer (comma-separated, or None)."""
    ints = integer.split(",") if integer else []
    unknown = [x for x in ints if x not in names]
    if unknown:
        raise Refused("--integer names %s, not an input (the inputs: %s)" % (", ".join(unknown), ",".join(names)))
    return {x: "INTEGER" if x in ints else "DOUBLE" for x in names}


# ---- writing ---------------------------------------------------------------------------------


def write_model(path, doc):
    """model.json with one tree node per line, so that a diagnostic quotes one node."""
    head = {"format": FORMAT, "version": VERSION}
    head.update({k: v for k, v in doc.items() if k not in ("trees", "stages")})
    parts = [json.dumps(head)[:-1]]

    def tree_text(nodes, indent):
        pad = " " * indent
        return "[\n" + ",\n".join(pad + json.dumps(n) for n in nodes) + "\n" + pad[:-1] + "]"

    if "trees" in doc:
        parts.append(',\n "trees": [\n' + ",\n".join("  " + tree_text(t, 3) for t in doc["trees"]) + "\n ]")
    if "stages" in doc:
        stages = []
        for stage in doc["stages"]:
            stages.append("  [\n" + ",\n".join("   " + tree_text(t, 4) for t in stage) + "\n  ]")
        parts.append(',\n "stages": [\n' + ",\n".join(stages) + "\n ]")
    with open(path, "w") as f:
        f.write("".join(parts) + "\n}\n")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="a pickled fitted estimator or Pipeline")
    ap.add_argument("out", help="the package directory to write")
    ap.add_argument("--features", help="input names, comma-separated, in the model's order")
    ap.add_argument("--labels", help="class names, comma-separated, in classes_ order")
    ap.add_argument("--integer", help="inputs typed INTEGER instead of DOUBLE, comma-separated")
    args = ap.parse_args(argv)
    with open(args.model, "rb") as f:
        obj = pickle.load(f)
    try:
        est, doc, classes = export(obj)
        n = int(est.n_features_in_)
        if "text" in doc:
            name = args.features or "text"
            if "," in name:
                raise Refused("a text model has one input: give --features NAME")
            if args.integer:
                raise Refused("a text model's input is a STRING: --integer does not apply")
            names, schema = [name], {name: "STRING"}
        else:
            names = getattr(obj, "feature_names_in_", None)
            if names is None:
                names = getattr(est, "feature_names_in_", None)
            if args.features:
                names = args.features.split(",")
            if names is None:
                raise Refused("%s was fitted without feature names: give --features a,b,..." % name_of(est))
            names = [str(x) for x in names]
            if len(names) != n or len(set(names)) != n:
                raise Refused("%d distinct feature names needed, %d given" % (n, len(set(names))))
            schema = input_schema(names, args.integer)
        config = {"input_schema": schema}
        if classes is not None:
            labels = args.labels.split(",") if args.labels else [str(c) for c in classes]
            if len(labels) != len(classes) or len(set(labels)) != len(labels):
                raise Refused("%d distinct class names needed, %d given" % (len(classes), len(set(labels))))
            config["output_labels"] = {str(i): x for i, x in enumerate(labels)}
        elif args.labels:
            raise Refused("%s is a regressor: it has no classes for --labels" % name_of(est))
    except Refused as e:
        print("sklearn_export.py: cannot export: %s" % e, file=sys.stderr)
        return 1
    doc["n_features"] = n
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")
    write_model(os.path.join(args.out, "model.json"), doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
