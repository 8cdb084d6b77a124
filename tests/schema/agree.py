# agree.py — the JSON Schema (schemas/topology.schema.json) and `streamrun validate` agree on every
# file of the examples and the test corpus.
"""Usage: agree.py STREAMRUN [REPO_DIR]

Runs `streamrun validate FILE` and the schema (python3-jsonschema, draft-07, over the YAML as
python3-yaml reads it) on every pipelines/*.yaml (topologies and their NAME.tests.yaml),
tests/cases/*.yaml, tests/cases/failing/*.yaml and tests/errors/*.yaml, and fails when

- validate accepts a file that the schema rejects (editors would mark a valid file), in any of
  them;
- in tests/errors/, validate rejects a file that the schema accepts, unless the file is in
  SCHEMA_CANNOT below — errors no JSON Schema can express — or a file in SCHEMA_CANNOT is now
  rejected by the schema too (the list is kept exact).

It also checks that the schema's messages for wrong values stay readable: what
jsonschema.best_match picks (roughly what editors show) names the expected values, not the
pattern of a ${VAR} reference that every scalar may also be.

Prints each disagreement and the counts; exits 1 on a failure, 2 when it cannot run.
"""

import glob
import json
import os
import re
import subprocess
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"agree: {e} (install python3-yaml and python3-jsonschema)", file=sys.stderr)
    sys.exit(2)

# tests/errors files that validate rejects and the schema accepts, by the kind of check a JSON
# Schema cannot make (it sees one value at a time, with no names defined elsewhere in the file, no
# expression grammar, no file system and no environment).
SCHEMA_CANNOT = {
    # names defined elsewhere in the file: topics, deployments, stores, repartition topics (a JSON
    # Schema checks a value against the schema, not against other values of the document)
    "009-unknown-topic-input.yaml",
    "010-unknown-topic-output.yaml",
    "011-unknown-topic-dead-letter.yaml",
    "012-unknown-topic-route.yaml",
    "047-dead-letter-is-input.yaml",
    "056-deployment-reads-own-output.yaml",
    "070-store-names.yaml",
    "076-repartition-names.yaml",
    "127-tests-file-names.yaml",  # its tests, beside it, name what it does not have
    "142-migration-unknown-store.yaml",  # stores are named by the steps
    "146-migration-default-store-name.yaml",
    "148-migration-rename-both-stores.yaml",
    "149-migration-rename-unknown-store.yaml",
    "127-tests-file-names.tests.yaml",
    "230-join-topic-not-an-input.yaml",
    "232-join-require-topic-name.yaml",
    "234-lookup-table-misspelt.yaml",
    "261-output-topic-not-declared.yaml",
    "262-route-topic-typo.yaml",
    "272-test-input-topic-typo.yaml",
    "274-test-deployments-string.yaml",
    "295-asof-without-history.yaml",
    "298-table-topic-not-declared.yaml",
    # uniqueness of a name across items (uniqueItems compares whole items, not one property)
    "013-duplicate-topic.yaml",
    "014-duplicate-deployment.yaml",
    "118-model-variant-names.yaml",
    "141-migration-duplicate-store.yaml",
    "268-duplicate-deployment-copy-paste.yaml",
    # the graph of deployments and topics, and partition counts compared across topics and tables
    "027-cycle-through-topics.yaml",
    "065-cycle-long-names.yaml",
    "077-repartition-table.yaml",
    "088-copartition.yaml",
    "100-join-inputs.yaml",
    "233-join-partition-counts.yaml",
    "297-metadata-name-with-spaces.yaml",  # the name of a repartition topic it makes
    # two values of the file compared (min.insync.replicas against replicationFactor: draft-07 has no
    # $data references)
    "063-topic-config-across.yaml",
    "228-hopping-step-above-size.yaml",
    # the order of items in a list (a step after a sink, a route's catch-all case before others) and
    # what the parts of a deployment do together (a terminal step and output:, migrations and its steps)
    "025-step-after-sink.yaml",
    "026-output-with-terminal-step.yaml",
    "034-route-default-not-last.yaml",
    "143-migration-no-stateful-step.yaml",  # migrations and what the steps keep
    "144-migration-on-a-source.yaml",  # migrations and a source: file
    "229-session-window-with-size.yaml",
    "263-route-and-output.yaml",
    "294-interval-join-three-inputs.yaml",
    # expression syntax (the expression grammar is not a regular language) and static types
    "017-expr-syntax-plain.yaml",
    "018-expr-syntax-double-quoted.yaml",
    "019-expr-syntax-block-scalar.yaml",
    "020-expr-static-type-error.yaml",
    "021-expr-unknown-function.yaml",
    "022-expr-wrong-arity.yaml",
    "032-filter-is-a-number.yaml",
    "033-explode-string-literal.yaml",
    "046-expr-syntax-quoted-escapes.yaml",
    "049-timestamp-not-number.yaml",
    "050-route-when-not-boolean.yaml",
    "055-expr-paren-column.yaml",
    "060-expr-chain-too-deep.yaml",
    "074-event-time-type.yaml",
    "153-yaml-hash-in-string-cut.yaml",  # YAML cut it at ' #': what is left does not parse
    "154-yaml-hash-comment-cuts-expression.yaml",
    "159-expr-integer-function.yaml",
    "160-expr-unknown-function-close-ones.yaml",
    "161-expr-unknown-function-none-close.yaml",
    "167-expr-comma-in-flow-mapping.yaml",  # YAML split it at ',': the pieces do not parse
    # how a value was written: `select: a, b` plain is a list written as one string, while
    # `select: "a, b"` in quotes is one field of that name (the schema sees the same string)
    "158-select-comma-string.yaml",
    "165-select-comma-string-fields-key.yaml",
    "223-aggregate-avg.yaml",
    "224-aggregate-capitalised.yaml",
    "225-aggregate-sum-no-argument.yaml",
    "241-hash-in-unquoted-expression.yaml",
    "244-integer-function.yaml",
    "245-function-misspelt.yaml",
    "246-javascript-method-call.yaml",
    "247-round-too-many-arguments.yaml",
    "248-substr-one-argument.yaml",
    "249-python-is-none.yaml",
    "250-comma-in-flow-mapping.yaml",
    "254-single-equals.yaml",
    "255-python-in-list.yaml",
    "256-f-string.yaml",
    "284-count-star.yaml",
    "285-aggregate-arithmetic.yaml",
    "286-explode-jsonpath.yaml",
    # field existence: which fields a record has at each step
    "023-field-after-select.yaml",
    "024-select-after-select.yaml",
    "052-expr-field-after-set-and-rename.yaml",
    "116-model-as.yaml",
    "124-model-variant-fields.yaml",
    "125-model-variant-schema.yaml",
    "243-select-comma-string.yaml",
    "251-field-dropped-by-select.yaml",
    "252-rename-backwards.yaml",
    # static types through the pipeline, fields removed by a step, and fields and types declared
    # by a topic's shape (another part of the file than where they are used)
    "180-type-set-round-compared-to-string.yaml",
    "181-type-renamed-field-keeps-type.yaml",
    "182-field-dropped-by-select.yaml",
    "183-field-dropped-by-drop.yaml",
    "184-type-window-count-compared-to-string.yaml",
    "185-type-pivot-name-is-a-number.yaml",
    "186-type-explode-kept-field.yaml",
    "187-field-dropped-by-join.yaml",
    "188-type-aggregate-mean-plus-text.yaml",
    "189-field-dropped-by-window.yaml",
    "190-type-model-label-index.yaml",
    "191-shape-field-misspelt.yaml",
    "192-shape-type-compared-to-string.yaml",
    "195-shape-nested-field-misspelt.yaml",
    "198-shape-element-type-explode.yaml",
    "199-shape-dropped-by-select-help.yaml",
    "200-shape-two-inputs-unknown-field.yaml",
    "201-shape-field-twice.yaml",  # NAME and NAME? are two keys to a JSON Schema
    "203-type-lookup-as-object.yaml",
    "204-field-of-an-array.yaml",
    "205-field-of-a-computed-string.yaml",
    "206-shape-event-time-is-a-string.yaml",
    "207-shape-sum-of-a-string.yaml",
    "253-string-compared-with-number.yaml",  # a number set by an earlier step
    # a table's `file:` left empty: the generated schema lets a text setting be null (as an
    # omitted one); the loader refuses it for a table (a schema gap, not a JSON Schema limit)
    "208-table-file-null.yaml",
    # the environment and the file system: unset variables, source files, tables, model packages and
    # what the packages hold (their inputs, outputs and classes)
    "030-unset-variable.yaml",
    "035-source-file-missing.yaml",
    "068-model-step.yaml",
    "089-table-limits.yaml",
    "120-model-variant-inputs.yaml",
    "121-model-variant-outputs.yaml",
    "122-model-variant-threshold.yaml",
    "123-model-variant-package.yaml",
    "126-tests-file-alone.tests.yaml",  # no topology beside it
    "236-unset-broker-variable.yaml",
    "237-env-default-colon-only.yaml",  # in kafka:, any string
    "279-source-file-missing.yaml",
    "292-model-package-path.yaml",
    "276-test-reason-regex-invalid.yaml",  # what regcomp() takes
    # librdkafka's own table of properties, read from the librdkafka streamrun runs with (a committed
    # schema would pin one version), and a property refused unless a command-line flag allows it
    "059-kafka-properties.yaml",
    "067-unsafe-kafka-properties.yaml",
    "277-kafka-python-client-keys.yaml",
    "296-group-id-in-kafka-block.yaml",
    # the keys of a test case and of its records, which the schema leaves to the test runner
    # (runner/cmd/cmd_schema.c: tests_schema, test_record_schema)
    "271-test-expect-value-unwrapped.yaml",
    "273-test-expect-key-typo.yaml",
}


# A valid topology; each mistake below makes one value wrong. (what, text, replacement, words the
# best message must hold)
BASE = """\
topics: [{name: raw, partitions: 2}, cooked]
deployments:
  - name: cook
    input: raw
    processing: at-least-once
    pipeline:
      - window: {type: tumbling, size: 10s, aggregate: {n: count()}}
    output: cooked
"""
MESSAGES = [
    ("an operator's choice", "type: tumbling", "type: tumblin",
     ["'tumblin' is not one of", "'tumbling'", "'sliding'"]),
    ("a deployment's choice", "processing: at-least-once", "processing: exactly-onse",
     ["'exactly-onse' is not one of", "'at-least-once'", "'exactly-once'"]),
    ("an integer", "partitions: 2", "partitions: two", ["'two' is not of type 'integer'"]),
    ("a duration", "size: 10s", "size: 10 sec", ["'10 sec' does not match", "ms|s|m|min|h|d"]),
    ("a variable is still taken", "size: 10s", 'size: "${SIZE:-10s}"', None),
    ("a broken variable", "size: 10s", 'size: "${SIZE"', ["'${SIZE' does not match"]),
]


def check_messages(validator):
    """The failures of MESSAGES, as text."""
    out = []
    for what, old, new, words in MESSAGES:
        assert old in BASE, what
        doc = yaml.safe_load(BASE.replace(old, new, 1))
        err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        msg = err.message if err else None
        if words is None:
            if err:
                out.append(f"message, {what}: the schema rejects {new!r}: {msg}")
            continue
        if msg is None:
            out.append(f"message, {what}: the schema accepts {new!r}")
        elif not all(w in msg for w in words) or ("[A-Za-z_]" in msg and "${" not in new):
            out.append(f"message, {what}: {msg[:200]!r} should say {words}")
        else:
            print(f"ok    message, {what}: {msg[:120]}")
    return out


class Yaml12Loader(yaml.SafeLoader):
    """python3-yaml reads YAML 1.1, where 1e-9 is a string; streamrun and editors read YAML 1.2's
    core schema, where it is a number."""


Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def schema_verdict(validator, path):
    """(accepted, first message) of the schema on path; a YAML syntax error is a rejection."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=Yaml12Loader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return False, f"YAML: {str(e).splitlines()[0]}"
    err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if err is None:
        return True, ""
    where = "/".join(str(p) for p in err.absolute_path) or "(top)"
    return False, f"{where}: {err.message[:160]}"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    streamrun = os.path.abspath(sys.argv[1])
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
    os.chdir(root)
    with open("schemas/topology.schema.json", encoding="utf-8") as f:
        validator = jsonschema.Draft7Validator(json.load(f))
    env = {k: v for k, v in os.environ.items() if k != "STREAMRUN_ERRORS_UNSET"}
    env["LC_ALL"] = "C"

    groups = {
        "pipelines": sorted(glob.glob("pipelines/*.yaml")),
        "cases": sorted(glob.glob("tests/cases/*.yaml") + glob.glob("tests/cases/failing/*.yaml")),
        "errors": sorted(glob.glob("tests/errors/*.yaml")),
    }
    failures = []
    for group, files in groups.items():
        if not files:
            failures.append(f"{group}: no files found")
        counts = {"both accept": 0, "both reject": 0, "only validate rejects": 0,
                  "only schema rejects": 0}
        allowed = 0
        for path in files:
            r = subprocess.run([streamrun, "validate", path], capture_output=True, text=True,
                               env=env)
            if r.returncode not in (0, 1):
                failures.append(f"{path}: validate exited {r.returncode}: {r.stderr[:300]}")
                continue
            v_ok = r.returncode == 0
            s_ok, s_msg = schema_verdict(validator, path)
            name = os.path.basename(path)
            if v_ok and s_ok:
                counts["both accept"] += 1
            elif not v_ok and not s_ok:
                counts["both reject"] += 1
                if group == "errors" and name in SCHEMA_CANNOT:
                    failures.append(f"{path}: the schema rejects it now ({s_msg}): take it off "
                                    "SCHEMA_CANNOT")
            elif v_ok:
                counts["only schema rejects"] += 1
                failures.append(f"{path}: validate accepts it, the schema rejects it: {s_msg}")
            else:
                counts["only validate rejects"] += 1
                first = next((l for l in r.stderr.splitlines() if re.search(r": error(\[SR[0-9]+\])?: ", l)), "")
                if group == "errors" and name in SCHEMA_CANNOT:
                    allowed += 1
                else:
                    failures.append(f"{path}: validate rejects it, the schema accepts it: {first}")
        summary = ", ".join(f"{n} {k}" for k, n in counts.items())
        print(f"{group}: {len(files)} files: {summary}"
              + (f" ({allowed} of them in SCHEMA_CANNOT)" if group == "errors" else ""))
    failures += check_messages(validator)
    missing = [n for n in SCHEMA_CANNOT if not os.path.exists(os.path.join("tests/errors", n))]
    failures += [f"SCHEMA_CANNOT: no file tests/errors/{n}" for n in missing]
    for f in failures:
        print(f"FAIL  {f}")
    print(f"{len(failures)} disagreement(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
