#!/usr/bin/env python3
"""Checks compose/docker-compose.yaml against the Compose Specification's JSON Schema
(../shared/schemas/compose-spec.json beside the checkout), since no Docker engine runs in CI,
and checks that what it refers to exists: the Dockerfile, the pipeline it runs, the packages
the Dockerfile installs. Exit 77 (skipped) when the schema is absent."""
import json
import os
import re
import sys

import jsonschema
import yaml

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
schema_path = os.path.join(os.path.dirname(root), "shared", "schemas", "compose-spec.json")
compose_path = os.path.join(root, "compose", "docker-compose.yaml")
failed = passed = 0


def check(ok, what):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


if not os.path.exists(schema_path):
    print(f"skipped: {schema_path} is absent")
    sys.exit(77)
schema = json.load(open(schema_path))
doc = yaml.safe_load(open(compose_path))
# the schema declares draft-07 (under an URI spelling jsonschema does not recognise)
assert "draft-07" in schema.get("$schema", ""), schema.get("$schema")
errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
for e in errors:
    print("compose schema:", "/".join(map(str, e.absolute_path)), e.message)
check(not errors, "docker-compose.yaml matches the Compose Specification")

svc = doc["services"]["streamrun"]
dockerfile = os.path.normpath(os.path.join(root, "compose", svc["build"]["context"],
                                           svc["build"]["dockerfile"]))
check(os.path.exists(dockerfile), f"{dockerfile} exists")
pipeline = svc["command"][1].replace("/pipelines/", "")
check(os.path.exists(os.path.join(root, "pipelines", pipeline)), f"pipelines/{pipeline} exists")
check(svc["command"][0] == "up" and "--broker" in svc["command"], "streamrun runs `up --broker`")
text = open(dockerfile).read()
for pkg in ["librdkafka-dev", "libyaml-dev", "libjansson-dev", "libcsv-dev"]:
    check(pkg in text, f"the Dockerfile installs {pkg}")
for copied in re.findall(r"^COPY (?!--)(\S+)", text, re.M):
    check(os.path.exists(os.path.join(root, copied)), f"the Dockerfile copies {copied}, which exists")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
