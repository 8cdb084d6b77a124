#!/usr/bin/env python3
"""text_reference.py — checks a text example's run (`streamrun run --envelope --out OUTDIR`) over
its sample file (or, from tests/kafka, of `up` as kafkatool.py reads its topics into OUTDIR)
against scikit-learn: every valid message must be on the output topic once, with
its fields and, for each model, the label and probabilities that the model trained by the
example's training script (pipelines/models/train_*.py) gives with predict_proba — the same
label, each probability within 1e-9; every invalid line (not JSON, not an object, the text field
missing, null or not a string) must be on `errors` once with its reason. With --corrupt one
expected label is changed, which the check must report.

    python3 tests/pipelines/text_reference.py sentiment|tweets SAMPLE.jsonl OUTDIR [--corrupt]

Exit 77 (skipped) when scikit-learn is missing, unless STREAMRUN_REQUIRE_SKLEARN or CI is set.
"""

import importlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "model"))
sys.path.insert(0, os.path.join(ROOT, "pipelines", "models"))
from sklearn_compare import require_sklearn  # noqa: E402  (exits 77 without scikit-learn)

require_sklearn()
TOL = 1e-9

# per example: its training script, the text field, the output topic, and per model (in the
# script's PACKAGES order) where the pipeline writes its label, label index (None: dropped) and
# probabilities, as paths of field names
EXAMPLES = {
    "sentiment": {"script": "train_mood", "text": "clean_text", "topic": "predictions",
                  "outputs": [(("mood",), None, ("probabilities",))]},
    "tweets": {"script": "train_tweets", "text": "text", "topic": "results",
               "outputs": [(("sentiment", "label"), ("sentiment", "label_index"), ("sentiment", "probabilities")),
                           (("topic", "label"), ("topic", "label_index"), ("topic", "probabilities"))]},
}
JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def canon(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def expectations(spec, sample):
    """(valid records, {canonical dead-letter value: expected reason}) of the sample's lines."""
    valid, invalid = [], {}
    with open(sample, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                v = json.loads(line)
            except ValueError:
                invalid[canon(line)] = "invalid JSON at "
                continue
            t = v.get(spec["text"]) if isinstance(v, dict) else None
            if not isinstance(v, dict):
                invalid[canon(v)] = "the record must be a JSON object, not %s" % JSON_TYPES[type(v)]
            elif t is None:
                invalid[canon(v)] = "%s: field is %s" % (
                    spec["text"], "null" if spec["text"] in v else "missing")
            elif not isinstance(t, str):
                invalid[canon(v)] = "%s: the model's input is a STRING, not %s" % (spec["text"], JSON_TYPES[type(t)])
            else:
                valid.append(v)
    return valid, invalid


def get(obj, path):
    for k in path:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj


def put(obj, path, value):
    for k in path[:-1]:
        obj = obj.setdefault(k, {})
    obj[path[-1]] = value


def take(obj, path):
    """Removes and returns the value at PATH (None when absent)."""
    for k in path[:-1]:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj.pop(path[-1], None) if isinstance(obj, dict) else None


def read_envelopes(path):
    """The records of a topic as `run --envelope` writes them, or as tests/kafka/kafkatool.py's
    read does (headers as [name, value] pairs, "value" only when the bytes are JSON, else "raw")."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for x in f:
            if not x.strip():
                continue
            e = json.loads(x)
            if isinstance(e.get("headers"), list):
                e["headers"] = dict(e["headers"])
            if "value" not in e and "raw" in e:
                e["value"] = e["raw"]
            out.append(e)
    return out


def main(argv):
    name, sample, out = argv[0], argv[1], argv[2]
    corrupt = "--corrupt" in argv[3:]
    spec = EXAMPLES[name]
    train = importlib.import_module(spec["script"])
    models = train.train_all()
    valid, invalid = expectations(spec, sample)
    texts = [v[spec["text"]] for v in valid]
    want = {}
    for v in valid:
        want[v["id"]] = dict(v)
    for model, (label_path, index_path, prob_path) in zip(models, spec["outputs"]):
        probs = model.predict_proba(texts)
        labels = model.predict(texts)
        classes = [str(c) for c in model.classes_]
        for v, p, label in zip(valid, probs, labels):
            put(want[v["id"]], label_path, str(label))
            if index_path:
                put(want[v["id"]], index_path, classes.index(str(label)))
            put(want[v["id"]], prob_path, {c: float(x) for c, x in zip(classes, p)})
    if corrupt:
        first = want[valid[0]["id"]]
        label_path, index_path, prob_path = spec["outputs"][0]
        classes = sorted(get(first, prob_path))
        put(first, label_path, classes[(classes.index(get(first, label_path)) + 1) % len(classes)])
    bad = []
    got = {}
    for e in read_envelopes(os.path.join(out, spec["topic"] + ".jsonl")):
        v = e["value"]
        if v["id"] in got:
            bad.append("%s: id %s: written twice" % (spec["topic"], v["id"]))
        got[v["id"]] = v
    for i, w in want.items():
        g = got.pop(i, None)
        if g is None:
            bad.append("%s: id %s: missing" % (spec["topic"], i))
            continue
        g = json.loads(json.dumps(g))  # a copy, whose probabilities are taken out
        for _, _, prob_path in spec["outputs"]:
            gp, wp = take(g, prob_path), take(w, prob_path)
            if not isinstance(gp, dict) or sorted(gp) != sorted(wp) or any(
                    not isinstance(gp[c], float) or abs(gp[c] - wp[c]) > TOL for c in wp):
                bad.append("%s: id %s: %s %s, scikit-learn's %s" % (spec["topic"], i, ".".join(prob_path), gp, wp))
        if g != w:
            bad.append("%s: id %s: %s, expected %s" % (spec["topic"], i, canon(g), canon(w)))
    for i in got:
        bad.append("%s: id %s: not expected there" % (spec["topic"], i))
    reasons = dict(invalid)
    for e in read_envelopes(os.path.join(out, "errors.jsonl")):
        k, reason = canon(e["value"]), e.get("headers", {}).get("streamrun.error", "")
        if k not in reasons:
            bad.append("errors: %s: not expected there (%s)" % (k, reason))
        elif not reason.startswith(reasons.pop(k)):
            bad.append("errors: %s: the reason is %r, expected %r" % (k, reason, invalid[k]))
    for k, reason in reasons.items():
        bad.append("errors: %s: missing (%s)" % (k, reason))
    for b in bad:
        print(b)
    if bad:
        print("FAIL: %d differences" % len(bad))
        return 1
    print("PASS: %d %s, each as scikit-learn scores it; %d invalid, each with its reason"
          % (len(want), spec["topic"], len(invalid)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
