"""Throws garbage at `streamrun lsp` (malformed frames, JSON that is no request, requests with
wrong or missing parameters, random document texts and positions) and checks that it answers
every request, never crashes, and still shuts down cleanly. Seeded: the same run each time.
Run on the sanitised build, an invalid read or leak fails it.

usage: lsp_fuzz.py STREAMRUN [ITERATIONS]"""
import json
import os
import random
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lsp_common import Server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
rng = random.Random(11)
BASE = open(os.path.join(HERE, "watch.yaml"), encoding="utf-8").read()
URI = "file://" + os.path.join(HERE, "fuzz-doc.yaml")
# its tests file, checked against the topology document's text (open: not read from disk)
TURI = "file://" + os.path.join(HERE, "fuzz-doc.tests.yaml")
TBASE = "compare: subset\n" + BASE[BASE.index("\ntests:") + 1:]
METHODS = ["textDocument/completion", "textDocument/hover", "textDocument/definition",
           "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
           "initialized", "$/cancelRequest", "workspace/symbol", "textDocument/didSave", ""]


def junk_value(depth=0):
    k = rng.randrange(8 if depth < 3 else 5)
    if k == 0:
        return None
    if k == 1:
        return True
    if k == 2:
        return rng.randint(-2**63, 2**63 - 1)
    if k == 3:
        return rng.random() * 1e9
    if k == 4:
        # no lone surrogates: the message would not be JSON, and a request lose its id
        return "".join(chr(c) for c in (rng.randrange(1, 0x2FFFF) for _ in range(rng.randrange(6)))
                       if not 0xD800 <= c <= 0xDFFF)
    if k == 5:
        return [junk_value(depth + 1) for _ in range(rng.randrange(3))]
    if k == 6:
        return {rng.choice(["uri", "line", "character", "textDocument", "position", "text",
                            "contentChanges", "x"]): junk_value(depth + 1) for _ in range(3)}
    return rng.randrange(-3, 40)


def mutate(text):
    b = bytearray(text.encode())
    for _ in range(rng.randrange(1, 8)):
        op = rng.randrange(4)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            del b[i:i + rng.randrange(1, 20)]
        elif op == 1:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
        elif op == 2:
            b[i:i] = rng.choice([b"{", b"[", b"- ", b":", b"\n  ", b"${X", b"\t", b"#", b"'", b"\x00",
                                 "é😀".encode(), b"\xff\xfe", b"&a", b"*a", b"!!str "])
        else:
            j = rng.randrange(len(b) + 1)
            b[i:i] = b[min(i, j):max(i, j)][:200]
    return b.decode("utf-8", errors="surrogateescape").encode("utf-8", errors="replace").decode(
        "utf-8", errors="replace")


def position():
    return {"line": rng.choice([rng.randrange(40), -1, 2**31, rng.randrange(-5, 5)]),
            "character": rng.choice([rng.randrange(80), -3, 2**40, 0])}


s = Server([EXE, "lsp"])
s.lenient = True
s.request("initialize", {"capabilities": rng.choice([{}, {"general": {"positionEncodings": ["utf-8"]}}])})
s.notify("initialized", {})
texts = {URI: BASE, TURI: TBASE}
s.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "text": BASE, "version": 0}})
s.notify("textDocument/didOpen", {"textDocument": {"uri": TURI, "text": TBASE, "version": 0}})
answered = 0
for it in range(N):
    kind = rng.randrange(7)
    doc = URI if rng.randrange(3) else TURI
    text = texts[doc]
    if kind == 0:  # a frame that is not JSON, or has broken headers (then no body)
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(30)))
        s.send_raw(rng.choice([b"Content-Length: %d\r\n\r\n" % len(body) + body,
                               b"content-length:%d\n\n" % len(body) + body,
                               b"Content-Type: x\r\n\r\n", b"Content-Length: -4\r\n\r\n",
                               b"Content-Length: 1x\r\n\r\n", b"\r\n"]))
        r = s.request("textDocument/hover", {"textDocument": {"uri": doc}, "position": position()})
        assert "result" in r or "error" in r, r
        # answers to junk without an id: errors with a null id, never a result
        m = [p for p in s.pending if "id" in p and p["id"] is None]
        assert all("error" in p and "result" not in p for p in m), m
        s.pending.clear()
        answered += 1
    elif kind == 1 and rng.randrange(8) == 0:  # a lone surrogate: jansson refuses the text
        body = b'{"jsonrpc":"2.0","method":"x","params":"\\ud800abcd"}'
        s.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    elif kind == 1:  # JSON that is no request
        s.send({"jsonrpc": "2.0", "id": junk_value(), "method": junk_value()}
               if rng.randrange(2) else junk_value())
    elif kind in (2, 3):  # an edit: the document changes as a user's might, or worse
        text = texts[doc] = mutate(text) if rng.randrange(4) else (BASE if doc == URI else TBASE)
        s.notify("textDocument/didChange", {"textDocument": {"uri": doc, "version": it},
                                            "contentChanges": [{"text": text}]})
    elif kind == 4 and rng.randrange(20) == 0:  # closed and opened again: its tests file
        # reads the topology from disk meanwhile (here: none), then from the document again
        s.notify("textDocument/didClose", {"textDocument": {"uri": doc}})
        s.notify("textDocument/didOpen", {"textDocument": {"uri": doc, "text": text, "version": it}})
    else:  # a request at a random place, or with junk parameters
        method = rng.choice(METHODS[:3])
        params = {"textDocument": {"uri": doc}, "position": position()}
        if rng.randrange(5) == 0:
            params = junk_value()
        elif rng.randrange(6) == 0:
            method = rng.choice(METHODS)
        r = s.request(method, params)
        assert "result" in r or "error" in r, r
        answered += 1
    # a few requests at every position of a line of the current text
    if it % 50 == 0:
        lines = text.split("\n")
        ln = rng.randrange(len(lines))
        for ch in range(len(lines[ln]) + 2):
            for m in METHODS[:3]:
                r = s.request(m, {"textDocument": {"uri": doc}, "position": {"line": ln, "character": ch}})
                assert "result" in r, r
                answered += 1
# the server is still well: it answers, then stops cleanly
s.notify("textDocument/didClose", {"textDocument": {"uri": URI}})
s.notify("textDocument/didClose", {"textDocument": {"uri": TURI}})
r = s.request("shutdown")
assert r.get("result", 1) is None, r
s.notify("exit")
rc, err = s.finish(timeout=120)
if rc != 0 or "Sanitizer" in err or "runtime error" in err:
    print(err[-4000:])
    print("FAIL: exit code %d after %d answered requests" % (rc, answered))
    sys.exit(1)

# a frame cut off by the end of input, and a length far past it: no crash, no huge allocation
for tail in [b"Content-Length: 50\r\n\r\n{\"jsonrpc\":", b"Content-Length: 99999999999\r\n\r\n{}",
             b"Content-Length: 5\r\n", b"\r\n\r\n\r\n"]:
    s = Server([EXE, "lsp"])
    s.send_raw(tail)
    rc, err = s.finish()
    if rc not in (0, 1) or "Sanitizer" in err or "runtime error" in err:
        print(err[-4000:])
        print("FAIL: exit code %d for a truncated frame %r" % (rc, tail))
        sys.exit(1)
print("lsp fuzz: %d messages, %d requests answered, clean exit" % (N, answered))
