#!/usr/bin/env python3
"""Checks (or with --update, rewrites) the README's operator and function reference, the block
between the BEGIN/END REFERENCE markers, against the output of `streamrun docs`.

usage: readme_reference.py STREAMRUN [--update]
"""
import subprocess
import sys

binary, update = sys.argv[1], "--update" in sys.argv[2:]
docs = subprocess.run([binary, "docs"], check=True, capture_output=True, text=True).stdout
text = open("README.md", encoding="utf-8").read()
begin = text.index("<!-- BEGIN REFERENCE")
begin = text.index("\n", begin) + 1
end = text.index("<!-- END REFERENCE -->")
if update:
    open("README.md", "w", encoding="utf-8").write(text[:begin] + docs + text[end:])
    print("README.md reference updated")
    sys.exit(0)
ok = text[begin:end] == docs
print("README reference is up to date" if ok else
      "README reference differs from `streamrun docs`; run: "
      "python3 tests/tools/readme_reference.py build/streamrun --update")
print(f"{int(ok)} passed, {int(not ok)} failed")
sys.exit(0 if ok else 1)
