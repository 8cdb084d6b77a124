"""A minimal Language Server Protocol client over a child process's stdio (stdlib only)."""
import json
import subprocess


class Server:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.next_id = 0
        self.pending = []  # notifications read while waiting for a response
        self.lenient = False  # keep responses to other ids (answers to junk) instead of failing

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self):
        """The next message, or None at the end of the server's output."""
        length = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                return None
            line = line.rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        assert length is not None, "a frame without Content-Length"
        body = self.p.stdout.read(length)
        assert len(body) == length, "a truncated frame"
        return json.loads(body)

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def request(self, method, params=None):
        self.next_id += 1
        rid = self.next_id
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.response(rid)

    def response(self, rid):
        while True:
            m = self.read()
            assert m is not None, "the server stopped before answering request %r" % (rid,)
            if "method" in m or (self.lenient and m.get("id") != rid):
                self.pending.append(m)
            elif m.get("id") == rid:
                return m
            else:
                raise AssertionError("unexpected message %r while waiting for %r" % (m, rid))

    def diagnostics(self, uri):
        """The next diagnostics published for uri."""
        while True:
            for i, m in enumerate(self.pending):
                if m.get("method") == "textDocument/publishDiagnostics" and \
                        m["params"]["uri"] == uri:
                    del self.pending[i]
                    return m["params"]["diagnostics"]
            m = self.read()
            assert m is not None, "the server stopped before publishing diagnostics"
            self.pending.append(m)

    def finish(self, timeout=30):
        self.p.stdin.close()
        rc = self.p.wait(timeout=timeout)
        err = self.p.stderr.read().decode(errors="replace")
        return rc, err
