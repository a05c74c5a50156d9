"""The base of the tests' own small HTTP servers on loopback (the misbehaving one in
tests/servers.py, the slow partner in tests/slow_partner.py)."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    def read_body(self):
        # Read the body even when it is ignored, or the client may see a connection reset.
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, headers, payload, length=None):
        """Send the answer; `length` announces a longer body than `payload` (sent later)."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload) if length is None else length))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # keep test output clean
        pass


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients at once must not be refused by a short backlog
