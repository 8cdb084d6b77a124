"""A minimal Language Server Protocol client over a child process's stdio (stdlib only)."""
import json
import queue
import subprocess
import threading


class Server:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.next_id = 0
        self.pending = []  # notifications read while waiting for a response
        self.lenient = False  # keep responses to other ids (answers to junk) instead of failing
        # a thread reads the server's output as it comes, so that neither side can block the
        # other on a full pipe while the client writes many messages without reading
        self.inbox = queue.Queue()
        self.done = False
        threading.Thread(target=self._reader, daemon=True).start()

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _reader(self):
        while True:
            try:
                m = self._read_frame()
            except Exception as e:  # noqa: BLE001 - reported to the reader of the inbox
                self.inbox.put(e)
                return
            self.inbox.put(m)
            if m is None:
                return

    def _read_frame(self):
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

    def read(self, timeout=120):
        """The next message, or None at the end of the server's output."""
        if self.done:
            return None
        try:
            m = self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message from the server in %d s" % timeout)
        if isinstance(m, Exception):
            raise m
        if m is None:
            self.done = True
        return m

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
