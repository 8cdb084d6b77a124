# validate_pipelines.py — checks pipelines/*.yaml against schemas/topology.schema.json and that
# the schema rejects documents it must reject.
"""Usage: validate_pipelines.py [REPO_DIR]

Validates every REPO_DIR/pipelines/*.yaml against REPO_DIR/schemas/topology.schema.json
(JSON Schema draft-07) and checks that each file starts with the yaml-language-server
comment that points editors at the schema. Then checks that a few deliberately bad
documents are rejected, so the schema is known to catch mistakes. Prints one line per
check and "N passed, N failed"; exits 1 when a check failed, 2 when it cannot run.
"""

import glob
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"validate_pipelines: {e} (install python3-yaml and python3-jsonschema)", file=sys.stderr)
    sys.exit(2)

HEADER = "# yaml-language-server: $schema=../schemas/topology.schema.json"

# A valid topology; each bad document below is it with one mistake.
BASE = """\
topics:
  - {name: raw, partitions: 2}
  - cooked
deployments:
  - name: cook
    input: raw
    pipeline:
      - filter: {where: "x > 1"}
      - select: [x, y]
    output: cooked
"""

# (what, text to replace in BASE, replacement, where the error must be)
BAD = [
    ("unknown operator", "- filter: {where:", "- filtr: {where:", "deployments[0].pipeline[0]"),
    (
        "unknown key in a filter long form",
        '{where: "x > 1"}',
        '{where: "x > 1", wehre: "y > 2"}',
        "deployments[0].pipeline[0]",
    ),
    ("partitions: 0", "partitions: 2", "partitions: 0", "topics[0]"),
    (
        "unknown topic config",
        "partitions: 2}",
        "partitions: 2, config: {retention.msec: 1}}",
        "topics[0].config",
    ),
    (
        "topic config value Kafka refuses",
        "partitions: 2}",
        "partitions: 2, config: {cleanup.policy: compacted}}",
        "topics[0].config.cleanup.policy",
    ),
    ("unknown top-level key", "topics:", "topic: []\ntopics:", ""),
    ("deployment without input or source", "    input: raw\n", "", "deployments[0]"),
]


def path_text(path):
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def line_of(root, path):
    """The 1-based line of the node at path in a composed YAML tree (or of its nearest parent)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else 1
    for p in path:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(p):
                    nxt = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and p < len(node.value):
            nxt = node.value[p]
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def short(text, limit=160):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_variable(err):
    """Whether err is a string failing the ${VAR} pattern that stands for a number or a choice."""
    return err.validator == "pattern" and err.validator_value.startswith("\\$\\{")


def wrong_branch(err):
    """Whether err only says that the value is of another kind than this branch takes."""
    return err.validator == "type" or is_variable(err)


def explain(err, operators):
    """err, or the error under a oneOf/anyOf that was most likely meant, and its message. The
    meant branch has the deepest error; else it is the branch with the fewest errors, leaving
    out branches that fail only on the type (a type mismatch means another branch was meant)."""
    inst = err.instance
    if (
        err.validator == "oneOf"
        and isinstance(inst, dict)
        and len(inst) == 1
        and operators
        and next(iter(inst)) not in operators
    ):
        return err, f"unknown operator {next(iter(inst))!r} (operators: {', '.join(operators)})"
    while err.context:
        depth = max(len(e.path) for e in err.context)
        if depth > 0:
            deepest = [e for e in err.context if len(e.path) == depth]
            err = ([e for e in deepest if not wrong_branch(e)] or deepest)[0]
            continue
        branches = {}
        for e in err.context:
            branches.setdefault(e.relative_schema_path[0], []).append(e)
        cands = [b for b in branches.values() if not all(wrong_branch(e) for e in b)]
        cands = cands or list(branches.values())
        fewest = min(len(b) for b in cands)
        cands = [b for b in cands if len(b) == fewest]
        if len(cands) == 1 and fewest == 1:
            err = cands[0][0]
            continue
        if fewest == 1 and all(b[0].validator == "required" for b in cands):
            names = [n for b in cands for n in b[0].validator_value if n not in b[0].instance]
            return err, "needs one of: " + ", ".join(repr(n) for n in names)
        break
    if is_variable(err):
        want = [t for t in err.schema.get("type", []) if t != "string"]
        want = ", ".join(repr(t) for t in want)
        return err, f"{err.instance!r} is not of type {want} (nor a ${{VAR}} reference)"
    if err.validator == "pattern" and "description" in err.schema:
        return err, short(f"{err.instance!r} is not {err.schema['description']}")
    return err, short(err.message)


def schema_errors(validator, doc, operators):
    """(path, message) of each error, sorted by path."""
    out = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.path]):
        best, msg = explain(e, operators)
        out.append((list(best.absolute_path), msg))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..")
    schema_path = os.path.join(root, "schemas", "topology.schema.json")
    passed = failed = 0

    def result(ok, what, problems=()):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok    {what}")
        else:
            failed += 1
            print(f"FAIL  {what}")
            for p in problems:
                print(f"      {p}")

    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print(f"validate_pipelines: {schema_path}: {short(str(e), 400)}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft7Validator(schema)
    step_branches = schema.get("definitions", {}).get("step", {}).get("oneOf", [])
    operators = [k for b in step_branches for k in b.get("properties", {})]

    files = sorted(glob.glob(os.path.join(root, "pipelines", "*.yaml")))
    if not files:
        where = os.path.join(root, "pipelines")
        result(False, "pipelines/*.yaml", [f"no files found under {where}"])
    for path in files:
        rel = os.path.relpath(path, root)
        problems = []
        with open(path, encoding="utf-8") as f:
            text = f.read()
        first = text.split("\n", 1)[0]
        if first != HEADER:
            problems.append(f"{rel}:1: the first line must be '{HEADER}', not '{short(first)}'")
        try:
            doc = yaml.safe_load(text)
            tree = yaml.compose(text)
        except yaml.YAMLError as e:
            problems.append(f"{rel}: {e}")
        else:
            errs = schema_errors(validator, doc, operators)
            located = [(line_of(tree, p), p, m) for p, m in errs]
            for line, p, msg in sorted(located, key=lambda e: e[0]):
                problems.append(f"{rel}:{line}: {path_text(p) or '(top)'}: {msg}")
        result(not problems, rel, problems)

    base_errors = schema_errors(validator, yaml.safe_load(BASE), operators)
    result(
        not base_errors,
        "a valid document is accepted",
        [f"{path_text(p) or '(top)'}: {m}" for p, m in base_errors],
    )
    for what, old, new, where in BAD:
        assert old in BASE, what
        errs = schema_errors(validator, yaml.safe_load(BASE.replace(old, new, 1)), operators)
        if not errs:
            result(False, f"rejects: {what}", ["the schema accepts it"])
            continue
        at = [path_text(p) for p, _ in errs]
        ok = any(a == where or a.startswith(where + ".") or a.startswith(where + "[") for a in at)
        detail = [f"expected an error at {where or '(top)'}, got:"] if not ok else []
        detail += [f"{path_text(p) or '(top)'}: {m}" for p, m in errs]
        result(ok, f"rejects: {what} ({'; '.join(m for _, m in errs)})", detail)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
