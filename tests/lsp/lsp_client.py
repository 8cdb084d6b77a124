"""Scripted client of `streamrun lsp`: diagnostics equal to `validate --format json`, completion,
hover, definition, errors for malformed messages, and a clean shutdown.

usage: lsp_client.py STREAMRUN"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lsp_common import Server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def utf16_len(b):
    return len(b.decode("utf-8", errors="replace").encode("utf-16-le")) // 2


def expected_diagnostics(path, text, utf8):
    """validate's diagnostics of the file, as LSP ranges."""
    r = subprocess.run([EXE, "validate", "--format", "json", path], capture_output=True)
    lines = text.encode().split(b"\n")
    out = []
    for d in json.loads(r.stdout):
        if d["file"] != path:
            continue
        line = lines[d["line"] - 1]
        def ch(col):
            b = line[:col - 1]
            return len(b) if utf8 else utf16_len(b)
        def place(p):
            return (p["line"] - 1, ch_of(p["line"], p["column"]), ch_of(p["line"], p["column"] + p["length"]))
        def ch_of(n, col):
            b = lines[n - 1][:col - 1]
            return len(b) if utf8 else utf16_len(b)
        # the help line follows the message; secondary places in the file are relatedInformation
        message = d["message"] + ("\nhelp: " + d["help"] if d.get("help") else "")
        related = tuple(place(p) + (p["message"],) for p in d.get("related", []) if p["file"] == path)
        out.append((d["line"] - 1, ch(d["column"]), ch(d["column"] + d["length"]),
                    {"error": 1, "warning": 2, "note": 3}[d["severity"]], d["code"], message,
                    related))
    return sorted(out)


def got_diagnostics(ds):
    def related(d):
        return tuple((r["location"]["range"]["start"]["line"],
                      r["location"]["range"]["start"]["character"],
                      r["location"]["range"]["end"]["character"], r["message"])
                     for r in d.get("relatedInformation", []) if r["location"]["uri"] == uri)
    return sorted((d["range"]["start"]["line"], d["range"]["start"]["character"],
                   d["range"]["end"]["character"], d["severity"], d.get("code"), d["message"],
                   related(d)) for d in ds)


def reference():
    """Operators and their parameters from `streamrun schema`; `streamrun docs` text."""
    schema = json.loads(subprocess.run([EXE, "schema"], capture_output=True, check=True).stdout)
    ops = {}
    for alt in schema["definitions"]["step"]["oneOf"]:
        for name, v in alt.get("properties", {}).items():
            params = set()
            for form in v["anyOf"]:
                params |= set(form.get("properties", {}))
            ops[name] = params
    docs = subprocess.run([EXE, "docs"], capture_output=True, check=True).stdout.decode()
    return ops, docs


OPS, DOCS = reference()
tmp = tempfile.mkdtemp(prefix="lsp-client-")
shutil.copy(os.path.join(HERE, "sites.csv"), tmp)
GOOD = open(os.path.join(HERE, "watch.yaml"), encoding="utf-8").read()
# four errors: an unknown topic, operator and function (the last after non-ASCII characters), and
# a topic declared twice (its first declaration the related place)
BAD = GOOD.replace("input: readings", "input: readngs").replace("- filter: speed", "- fitler: speed") \
          .replace("m: round(speed)", "m: rund(speed)").replace("{name: errors,", "{name: alerts,") \
          .replace("deadLetter: errors", "deadLetter: alerts")
assert BAD.count("\n") == GOOD.count("\n") and BAD != GOOD
UNPARSED = GOOD.replace("  - alerts\n", "  - [alerts\n")
path = os.path.join(tmp, "watch.yaml")
uri = "file://" + urllib.parse.quote(path)


def write(text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def open_edited(s, doc_uri, doc_path, on_disk, text, utf8):
    """Opens doc_path with text while the file holds on_disk (the server must read the text it
    is given, not the file); returns the diagnostics published and validate's of text."""
    with open(doc_path, "w", encoding="utf-8") as f:
        f.write(on_disk)
    s.notify("textDocument/didOpen", {"textDocument": {"uri": doc_uri, "languageId": "yaml",
                                                       "version": 1, "text": text}})
    got = got_diagnostics(s.diagnostics(doc_uri))
    with open(doc_path, "w", encoding="utf-8") as f:
        f.write(text)
    return got, expected_diagnostics(doc_path, text, utf8)


def session(utf8):
    s = Server([EXE, "lsp"])
    caps = {"general": {"positionEncodings": ["utf-8", "utf-16"]}} if utf8 else {}
    r = s.request("initialize", {"processId": None, "rootUri": None, "capabilities": caps})
    c = r["result"]["capabilities"]
    check(c.get("positionEncoding") == ("utf-8" if utf8 else "utf-16"),
          "positionEncoding negotiated: %r" % c.get("positionEncoding"))
    check(c["textDocumentSync"]["change"] == 1, "full document sync")
    s.notify("initialized", {})
    # a document with errors that the file on disk does not have
    got, want = open_edited(s, uri, path, GOOD, BAD, utf8)
    check(len(want) == 4, "validate reports the four errors: %r" % (want,))
    check(got == want, "diagnostics of the edited text\n  got  %r\n  want %r" % (got, want))
    # each has its code; the misspelt operator its rewrite; the duplicate its first declaration
    codes = {d[5].split(" '")[0]: d[4] for d in got}
    check(codes.get("unknown topic") == "SR0201" and codes.get("duplicate topic") == "SR0110",
          "codes: %r" % (got,))
    fitler = [d for d in got if "'fitler'" in d[5]]
    check(fitler and fitler[0][4] == "SR0107" and "\nhelp: " in fitler[0][5] and
          "- filter: speed" in fitler[0][5], "the operator's code and help: %r" % (fitler,))
    dup = [d for d in got if "duplicate topic" in d[5]]
    check(dup and dup[0][6] and dup[0][6][0][0] == 3, "the duplicate's related place: %r" % (dup,))
    # the unknown function's column counts UTF-16 code units (unless utf-8 was negotiated)
    rund = [d for d in got if "rund" in d[5]]
    line = BAD.split("\n")[rund[0][0]] if rund else ""
    byte_col = line.encode().find(b"rund")
    check(rund and rund[0][1] == (byte_col if utf8 else utf16_len(line.encode()[:byte_col])) and
          (utf8 or rund[0][1] != byte_col), "column of an error after non-ASCII text: %r" % (rund,))
    # a text that does not parse still gets its parse error
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                        "contentChanges": [{"text": UNPARSED}]})
    got = got_diagnostics(s.diagnostics(uri))
    write(UNPARSED)
    want = expected_diagnostics(path, UNPARSED, utf8)
    check(want and got == want, "parse error\n  got  %r\n  want %r" % (got, want))
    # fixed: no diagnostics
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                        "contentChanges": [{"text": GOOD}]})
    check(s.diagnostics(uri) == [], "no diagnostics once fixed")
    write(GOOD)
    check(expected_diagnostics(path, GOOD, utf8) == [], "validate agrees the text is valid")
    return s


def edit(s, text, version):
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                        "contentChanges": [{"text": text}]})
    s.diagnostics(uri)


def at(text, marker):
    """(line, character) of the end of the first occurrence of marker, in UTF-16 code units."""
    i = text.index(marker) + len(marker)
    line = text.count("\n", 0, i)
    return {"line": line, "character": utf16_len(text[text.rfind("\n", 0, i) + 1:i].encode())}


def labels(s, text, marker, doc_uri=None):
    r = s.request("textDocument/completion", {"textDocument": {"uri": doc_uri or uri},
                                              "position": at(text, marker)})
    res = r["result"]
    items = res["items"] if isinstance(res, dict) else res
    return {i["label"] for i in items}


def completion(s):
    v = 10
    # a step of the pipeline: every operator of the schema, no functions or topics
    t = GOOD.replace("      - filter: speed > 3\n", "      - \n      - filter: speed > 3\n")
    edit(s, t, v)
    got = labels(s, t, "pipeline:\n      - ")
    check(set(OPS) <= got, "operators at a step: missing %r" % (set(OPS) - got))
    check("round" not in got and "readings" not in got, "only operators at a step: %r" % got)
    # inside a window's mapping: its parameters (from the schema), no operators
    t = GOOD.replace("      - filter: speed > 3\n", "      - window:\n          \n")
    edit(s, t, v + 1)
    got = labels(s, t, "- window:\n          ")
    check(OPS["window"] <= got and "filter" not in got,
          "window parameters: got %r want %r" % (got, OPS["window"]))
    # the same in a flow mapping
    t = GOOD.replace("      - filter: speed > 3\n", "      - window: {ty\n")
    edit(s, t, v + 2)
    got = labels(s, t, "- window: {ty")
    check(OPS["window"] <= got, "window parameters in a flow mapping: %r" % got)
    # a topic after input: and deadLetter:, not operators
    t = GOOD.replace("input: readings", "input: re")
    edit(s, t, v + 3)
    got = labels(s, t, "input: re")
    check({"readings", "alerts", "errors"} <= got and "filter" not in got, "topics: %r" % got)
    got = labels(s, GOOD, "deadLetter: ")
    check({"readings", "alerts", "errors"} <= got, "topics after deadLetter: %r" % got)
    # functions in an expression (a filter, a set mapping), not operators or topics
    t = GOOD.replace("- filter: speed > 3", "- filter: speed > ro")
    edit(s, t, v + 4)
    got = labels(s, t, "speed > ro")
    check({"round", "lower", "has"} <= got and "filter" not in got and "readings" not in got,
          "functions in a filter: %r" % got)
    check("city" not in got and "note" not in got, "no field is known at the first step: %r" % got)
    # fields where the loader knows them: after the select, and after the set (in a lookup's key)
    t = GOOD.replace("      - select: [speed, note, m, city]\n",
                     "      - select: [speed, note, m, city]\n      - filter: ci\n")
    edit(s, t, v + 6)
    got = labels(s, t, "- filter: ci")
    check({"speed", "note", "m", "city"} <= got and "round" in got and "site" not in got,
          "fields after a select: %r" % got)
    t = GOOD.replace("      - select:", "      - filter: \n      - select:")
    edit(s, t, v + 7)
    got = labels(s, t, "fields: {city: city}\n      - filter: ")
    check("city" in got and "round" in got and "speed" not in got,
          "the field a lookup adds: %r" % got)
    edit(s, GOOD, v + 8)
    edit(s, GOOD, v + 5)
    got = labels(s, GOOD, "m: ro")
    check("note" not in got, "no field of the set itself in its own expressions: %r" % got)
    check("round" in got and "window" not in got, "functions in a set mapping: %r" % got)
    # a deployment where the tests refer to one; a table after a lookup's table:
    got = labels(s, GOOD, "deployments: [")
    check(got == {"watch"}, "deployment names: %r" % got)
    got = labels(s, GOOD, "table: ")
    check(got == {"sites"}, "table names: %r" % got)
    # a key of a deployment's own mapping is none of these
    got = labels(s, GOOD, "name: watch")
    check(not (got & (set(OPS) | {"readings"})), "nothing operator-like at a deployment's name")


def hover_text(s, text, marker, back=1):
    p = at(text, marker)
    p["character"] -= back
    r = s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": p})
    res = r["result"]
    return res["contents"]["value"] if res else None


def hover(s):
    h = hover_text(s, GOOD, "- filter")
    check(h and h.startswith("### filter") and h in DOCS, "operator hover is docs' section: %r" % h)
    check(h and "| `filter` |" not in h and "| Parameter |" in h, "with its parameter table")
    # on the first letter of a call, after non-ASCII text on its line: the character counts
    # UTF-16 code units, not bytes or code points
    for back in (len("round("), 1):  # its first letter, and just after its last
        h = hover_text(s, GOOD, "round(", back=back)
        check(h and "round(" in h, "function hover %d before the '(': %r" % (back - 1, h))
    row = [l for l in DOCS.split("\n") if l.startswith("| `round(")]
    check(h and row and row[0] in h, "function hover: %r (docs: %r)" % (h, row))
    h = hover_text(s, GOOD, "          table", back=2)
    check(h and "lookup" in h and "the table to look up" in h, "parameter hover: %r" % h)
    check(hover_text(s, GOOD, "speed > 3") is None, "no hover on a field")


def definition(s):
    def loc(marker, back=1):
        p = at(GOOD, marker)
        p["character"] -= back
        r = s.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": p})
        return r["result"]

    def place(marker, name):
        p = at(GOOD, marker)
        return {"line": p["line"], "character": p["character"] - len(name)}

    r = loc("input: readings")
    check(r and r["uri"] == uri and r["range"]["start"] == place("  - readings", "readings") and
          r["range"]["end"] == at(GOOD, "  - readings"), "topic definition: %r" % r)
    r = loc("deadLetter: errors", back=2)
    check(r and r["range"]["start"] == place("{name: errors", "errors"), "topic in a mapping: %r" % r)
    r = loc("table: sites")
    check(r and r["range"]["start"] == place("  - name: sites", "sites"), "table definition: %r" % r)
    r = loc("deployments: [watch")
    check(r and r["range"]["start"] == place("  - name: watch", "watch"), "deployment: %r" % r)
    check(loc("filter: speed") is None, "no definition for an operator")


def robustness(s):
    r = s.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {}})
    check(r.get("error", {}).get("code") == -32601, "unknown request: MethodNotFound: %r" % r)
    s.notify("$/someNotification", {"x": 1})  # ignored: no answer
    s.send_raw(b"Content-Length: 9\r\n\r\n{\"jsonrpc")
    m = s.read()
    check(m and m.get("error", {}).get("code") == -32700 and m.get("id") is None,
          "malformed JSON: ParseError: %r" % m)
    r = s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at(GOOD, "- filter")})
    check("result" in r, "answers after garbage: %r" % r)


# NAME.tests.yaml beside the topology: checked against it, as `validate` checks it
TESTS_GOOD = """compare: subset
tests:
  - name: two
    deployments: [watch]
    input:
      readings:
        - {value: {speed: 5, site: s1}}
    expect:
      alerts:
        - {value: {m: 5}}
"""
# three errors: a misspelt top-level key, an unknown deployment, a misspelt case key
TESTS_BAD = TESTS_GOOD.replace("compare:", "compre:").replace("[watch]", "[wach]") \
                      .replace("    input:", "    inptu: {}\n    input:")
tests_path = os.path.join(tmp, "watch.tests.yaml")
tests_uri = "file://" + urllib.parse.quote(tests_path)


def write_tests(text):
    with open(tests_path, "w", encoding="utf-8") as f:
        f.write(text)


def tests_diagnostics(s, text, version, what):
    """Edits the open tests file to text; its diagnostics must be validate's of that text."""
    s.notify("textDocument/didChange", {"textDocument": {"uri": tests_uri, "version": version},
                                        "contentChanges": [{"text": text}]})
    got = got_diagnostics(s.diagnostics(tests_uri))
    write_tests(text)
    want = expected_diagnostics(tests_path, text, False)
    check(got == want, "%s\n  got  %r\n  want %r" % (what, got, want))
    return got


def tests_file(s):
    """The topology document holds GOOD; the tests file is opened with errors the file on disk
    does not have: its diagnostics are validate's of the editor's text, at its own lines."""
    write(GOOD)
    got, want = open_edited(s, tests_uri, tests_path, TESTS_GOOD, TESTS_BAD, False)
    check(len(want) == 3, "validate reports the tests file's three errors: %r" % (want,))
    check(got == want, "diagnostics of a tests file\n  got  %r\n  want %r" % (got, want))
    check(not any("deployments" in d[5] and "missing" in d[5] for d in got),
          "a tests file is not taken for a topology: %r" % (got,))
    got = tests_diagnostics(s, TESTS_GOOD, 2, "a valid tests file")
    check(got == [], "no diagnostics for a valid tests file: %r" % (got,))
    # the topology's open text is the one the tests are checked against: renaming the
    # deployment there (unsaved) makes the tests' reference to it an error, published at once
    renamed = GOOD.replace("name: watch", "name: watcher").replace("[watch]", "[watcher]")
    edit(s, renamed, 30)
    got = got_diagnostics(s.diagnostics(tests_uri))
    write(renamed)
    want = expected_diagnostics(tests_path, TESTS_GOOD, False)
    check(len(want) == 1 and "watch" in want[0][5] and got == want,
          "tests checked against the topology's open text\n  got  %r\n  want %r" % (got, want))
    # a topology with errors: the tests file says so once, at its first line
    edit(s, BAD, 31)
    got = s.diagnostics(tests_uri)
    check(len(got) == 1 and got[0]["range"]["start"] == {"line": 0, "character": 0} and
          "has 4 errors" in got[0]["message"] and got[0]["severity"] == 1,
          "a tests file whose topology has errors: %r" % (got,))
    # closed, the topology is read from disk again (GOOD)
    write(GOOD)
    s.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    check(s.diagnostics(uri) == [], "a closed document's diagnostics are cleared")
    check(s.diagnostics(tests_uri) == [], "tests checked against the file on disk once closed")
    # completion: the top-level keys, a case's keys, compare's values, topics under input:
    t = TESTS_GOOD.replace("compare: subset\n", "compare: subset\nto\n")
    tests_diagnostics(s, t, 3, "a tests file being typed")
    check(labels(s, t, "\nto", tests_uri) == {"tests", "compare", "tolerance"},
          "top-level keys of a tests file: %r" % labels(s, t, "\nto", tests_uri))
    t = TESTS_GOOD.replace("    deployments:", "    st\n    deployments:")
    tests_diagnostics(s, t, 4, "a case being typed")
    got = labels(s, t, "    st", tests_uri)
    check({"name", "input", "expect", "stateMemory", "compare", "tolerance"} <= got and
          "filter" not in got, "keys of a test case: %r" % got)
    t = TESTS_GOOD.replace("  - name: two\n", "  - \n  - name: two\n")
    tests_diagnostics(s, t, 5, "a new case being typed")
    got = labels(s, t, "tests:\n  - ", tests_uri)
    check({"name", "input", "expect"} <= got, "keys of a new test case: %r" % got)
    tests_diagnostics(s, TESTS_GOOD, 6, "the tests file as it was")
    got = labels(s, TESTS_GOOD, "compare: ", tests_uri)
    check(got == {"exact", "subset"}, "compare's values: %r" % got)
    got = labels(s, TESTS_GOOD, "deployments: [", tests_uri)
    check(got == {"watch"}, "deployments of the topology in its tests file: %r" % got)
    # go to definition: into the topology's file (read from disk: closed in the editor)
    for marker, name, back in (("deployments: [watch", "  - name: watch", 1),
                               ("      readings", "  - readings", 1)):
        p = at(TESTS_GOOD, marker)
        p["character"] -= back
        r = s.request("textDocument/definition", {"textDocument": {"uri": tests_uri},
                                                  "position": p})["result"]
        want = at(GOOD, name)
        want["character"] -= len(name.split()[-1])
        check(r and r["uri"] == uri and r["range"]["start"] == want,
              "definition from a tests file into its topology: %r (want %r at %r)" % (r, uri, want))
    s.notify("textDocument/didClose", {"textDocument": {"uri": tests_uri}})
    s.diagnostics(tests_uri)
    # a tests file without its topology: validate's error
    lone = os.path.join(tmp, "lone.tests.yaml")
    with open(lone, "w", encoding="utf-8") as f:
        f.write(TESTS_GOOD)
    lone_uri = "file://" + urllib.parse.quote(lone)
    s.notify("textDocument/didOpen", {"textDocument": {"uri": lone_uri, "languageId": "yaml",
                                                       "version": 1, "text": TESTS_GOOD}})
    got = got_diagnostics(s.diagnostics(lone_uri))
    want = expected_diagnostics(lone, TESTS_GOOD, False)
    check(len(want) == 1 and "no topology" in want[0][5] and got == want,
          "a tests file without its topology\n  got  %r\n  want %r" % (got, want))
    s.notify("textDocument/didClose", {"textDocument": {"uri": lone_uri}})
    s.diagnostics(lone_uri)
    # the topology document again, for what follows
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml",
                                                       "version": 40, "text": GOOD}})
    check(s.diagnostics(uri) == [], "the topology reopened")
    os.remove(tests_path)


s = session(utf8=False)
completion(s)
hover(s)
definition(s)
robustness(s)
tests_file(s)
r = s.request("shutdown")
check("result" in r and r["result"] is None, "shutdown: %r" % r)
s.notify("exit")
rc, err = s.finish()
check(rc == 0, "exit code after shutdown and exit: %d (%s)" % (rc, err))

s = session(utf8=True)
s.request("shutdown")
s.notify("exit")
rc, err = s.finish()
check(rc == 0, "exit code (utf-8 session): %d (%s)" % (rc, err))

# exit without shutdown: exit code 1, as the protocol asks
s = Server([EXE, "lsp"])
s.request("initialize", {"capabilities": {}})
s.notify("exit")
rc, err = s.finish()
check(rc == 1, "exit without shutdown: %d" % rc)

shutil.rmtree(tmp)
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("lsp client: all checks passed")
