"""A partner that answers every request correctly, but only after a fixed delay: Hypatos-shaped
routes (`/v2/auth/token`, `/v2/projects`) on loopback, in a thread.

The authorization server of tests/servers.py answers as fast as it can; concurrency of the bulk
test only shows against a partner whose latency dominates, as real partners' does.
"""

import json
import threading
import time

from tests.loopback_http import LoopbackServer, QuietHandler

HOST = "127.0.0.1"


class _Handler(QuietHandler):
    def _serve(self):
        if self.path == "/stats":
            return self._stats()
        self.read_body()
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
            self.server.started.append(time.monotonic())
            if self.path.startswith("/v2/auth/token"):
                # HTTP Basic client authentication: the client ID tells connections apart.
                self.server.token_requests.append(self.headers.get("Authorization", ""))
        try:
            time.sleep(self.server.delay)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1
                self.server.count += 1
        path = self.path.split("?", 1)[0]
        if path == "/v2/auth/token":
            body = {"access_token": "slow-partner-token", "token_type": "Bearer", "expires_in": self.server.expires_in}
            status = 200
        elif path == "/v2/projects":
            body, status = {"data": [], "total": 0}, 200
        else:
            body, status = {"error": "not_found"}, 404
        self.answer(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

    do_GET = do_POST = _serve

    def _stats(self):
        """The counts as JSON, for a benchmark running this partner in a process of its own
        (`python -m tests.slow_partner DELAY`); reading them starts the counts afresh."""
        with self.server.lock:
            body = {
                "requests": self.server.count,
                "token_requests": len(self.server.token_requests),
                "clients": len(set(self.server.token_requests)),
                "most_in_flight": self.server.most_in_flight,
            }
            self.server.count = self.server.most_in_flight = 0
            self.server.token_requests, self.server.started = [], []
        self.answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


class SlowPartner:
    """Start on a free port; `endpoint` is the Hypatos endpoint URL, `count` the requests served."""

    def __init__(self, delay, expires_in=3600):
        self._httpd = LoopbackServer((HOST, 0), _Handler)
        self._httpd.delay = delay
        self._httpd.expires_in = expires_in
        self._httpd.count = 0
        # What a test checks: the most requests in flight at once, when each began, the token
        # requests' Authorization headers (client IDs tell connections apart).
        self._httpd.in_flight = self._httpd.most_in_flight = 0
        self._httpd.started = []
        self._httpd.token_requests = []
        self._httpd.lock = threading.Lock()
        self.delay = delay
        self.endpoint = f"http://{HOST}:{self._httpd.server_port}/v2"
        self.token_url = f"{self.endpoint}/auth/token"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="slow-partner", daemon=True)
        self._thread.start()

    @property
    def count(self):
        with self._httpd.lock:
            return self._httpd.count

    @property
    def most_in_flight(self):
        with self._httpd.lock:
            return self._httpd.most_in_flight

    @property
    def started(self):
        with self._httpd.lock:
            return list(self._httpd.started)

    @property
    def token_requests(self):
        with self._httpd.lock:
            return list(self._httpd.token_requests)

    @property
    def host_key(self):
        return f"{HOST}:{self._httpd.server_port}"

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    import sys

    partner = SlowPartner(delay=float(sys.argv[1]))
    print(partner.endpoint, flush=True)  # the first line tells the parent where it listens
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
