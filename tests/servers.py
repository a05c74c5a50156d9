"""Real servers for the tests: the OAuth authorization server and a faulty one.

A pytest plugin module: register it with ``pytest_plugins = ["tests.servers"]``
(in tests/conftest.py). It never imports Django, so it works with or without
pytest-django and whatever DJANGO_SETTINGS_MODULE the test process uses.

* ``auth_server`` (session): tests.authserver (django-oauth-toolkit) in a
  subprocess on a free loopback port, with its own temporary SQLite DB.
* ``fault_server`` (session): a small misbehaving HTTP server in a thread, for
  the faults a real authorization server will not produce on demand.

``start_auth_server()`` and ``FaultServer`` are public too, for a test that
needs its own instance (say, with 2-second access tokens).
"""

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.authserver.browserless import AuthorizeError, authorize
from tests.authserver.seed import CREDENTIALS, TENANT
from tests.loopback_http import LoopbackServer, QuietHandler

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

__all__ = ["AuthServer", "AuthorizeError", "FaultServer", "auth_server", "fault_server", "start_auth_server"]


# --- the authorization server -------------------------------------------------


class AuthServer:
    """A running tests.authserver: its URLs, seeded credentials and controls."""

    def __init__(self, port, log_path):
        self.host = HOST
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.log_path = log_path
        self.credentials = dict(CREDENTIALS)
        for name, value in CREDENTIALS.items():  # username, password, *_client_id, ...
            setattr(self, name, value)
        realm = f"{self.base_url}/auth/realms/{TENANT}"
        self.inverbis_discovery_url = f"{realm}/.well-known/openid-configuration"
        self.inverbis_auth_url = f"{realm}/protocol/openid-connect/auth"
        self.inverbis_token_url = f"{realm}/protocol/openid-connect/token"
        self.inverbis_userinfo_url = f"{realm}/protocol/openid-connect/userinfo"
        self.invenias_token_url = f"{self.base_url}/identity/connect/token"
        self.invenias_api_url = f"{self.base_url}/api/v1/"
        self.hypatos_endpoint = f"{self.base_url}/v2"
        self.hypatos_token_url = f"{self.hypatos_endpoint}/auth/token"
        # Any OpenID Connect server (the generic provider): the issuer is the server's root.
        self.generic_issuer = self.base_url
        self.generic_auth_url = f"{self.base_url}/oidc/authorize"
        self.generic_token_url = f"{self.base_url}/oidc/token"
        self.generic_userinfo_url = f"{self.base_url}/oidc/userinfo"
        self.generic_revocation_url = f"{self.base_url}/oidc/revoke"

    def url(self, path):
        return self.base_url + path

    def shaped(self, url_or_host, path=""):
        """A provider's `https://host/...` URL (or a host and a path) as the server shaped like
        that provider answers it here: `http://127.0.0.1:port/hosts/host/...`
        (tests/authserver/shapes.py)."""
        host_and_path = url_or_host.removeprefix("https://") + path
        return f"{self.base_url}/hosts/{host_and_path}"

    def _control(self, method, path):
        response = requests.request(method, self.url(path), timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self):
        """Token-endpoint requests: {"total", "by_grant_type", "by_provider"}."""
        return self._control("GET", "/_test/stats")

    def reset_stats(self):
        return self._control("POST", "/_test/reset")

    def revoke_refresh_tokens(self):
        """Kill every refresh token (a later refresh gets invalid_grant); returns the count."""
        return self._control("POST", "/_test/revoke-refresh-tokens")["revoked"]

    def expire_access_tokens(self):
        """Expire every access token now (API calls then get 401); returns the count."""
        return self._control("POST", "/_test/expire-access-tokens")["expired"]

    def authorize(self, auth_url, username=None, password=None, allow=True):
        """Log in and consent at ``auth_url``; return the redirect back to the app (not followed)."""
        return authorize(
            auth_url,
            username=self.username if username is None else username,
            password=self.password if password is None else password,
            allow=allow,
        )

    def log(self):
        """The server's stdout/stderr so far (request lines, tracebacks)."""
        return self.log_path.read_text(errors="replace")


def _server_environment():
    env = dict(os.environ)
    # The parent may run under the application's settings: never pass them on.
    env["DJANGO_SETTINGS_MODULE"] = "tests.authserver.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def start_auth_server(work_dir, *, redirect_uris=None, access_token_seconds=None, startup_timeout=60):
    """Start tests.authserver in a subprocess; yield an AuthServer; stop it on exit.

    ``work_dir`` holds its database, its port file and its log (kept for
    post-mortems). Binds port 0 and reads the port the server reports, so
    there is no window in which another process can take the port.
    """
    work_dir = Path(work_dir)
    port_file = work_dir / "port"
    log_path = work_dir / "server.log"
    command = [sys.executable, "-m", "tests.authserver", "--host", HOST, "--port", "0"]
    command += ["--port-file", str(port_file), "--db", str(work_dir / "db.sqlite3")]
    if redirect_uris is not None:  # a list, or one space-separated string
        uris = redirect_uris if isinstance(redirect_uris, str) else " ".join(redirect_uris)
        command += ["--redirect-uris", uris]
    if access_token_seconds is not None:
        command += ["--access-token-seconds", str(access_token_seconds)]

    # The log goes to a file, not a pipe: nobody reads a pipe while tests run,
    # and a full pipe buffer would freeze the server.
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=_server_environment(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        server = AuthServer(_wait_until_ready(process, port_file, startup_timeout, log_path), log_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process, port_file, timeout, log_path):
    """Return the port once the server answers; fail with its log if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if port_file.exists():
            port = int(port_file.read_text())
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://{HOST}:{port}/_test/stats", timeout=2).ok:
                    return port
        time.sleep(0.1)
    state = f"exited with code {process.returncode}" if process.poll() is not None else f"not ready in {timeout}s"
    log = log_path.read_text(errors="replace")[-4000:]
    raise RuntimeError(f"The test authorization server {state}. Its output:\n{log}")


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory):
    """The OAuth 2.0 authorization server shared by the whole test session.

    Redirect URIs come from AUTHSERVER_REDIRECT_URIS if set, else the seed's
    defaults (http://127.0.0.1/oauth/callback/ and the localhost twin, any port).
    """
    with start_auth_server(tmp_path_factory.mktemp("authserver")) as server:
        yield server


# --- the misbehaving server ------------------------------------------------------


def _json(status, payload, **headers):
    return status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()


def _oauth_error(status, error, description, **headers):
    return _json(status, {"error": error, "error_description": description}, **headers)


HTML = {"Content-Type": "text/html"}
TOKEN = {"access_token": "fault-server-access-token", "token_type": "Bearer", "expires_in": 3600}


def _slow(query):
    time.sleep(min(float(query.get("delay", "5")), 60))
    return _json(200, TOKEN)


def _huge(query):
    size = int(float(query.get("mb", "5")) * 1024 * 1024)
    body = b'{"access_token": "' + b"x" * size + b'", "token_type": "Bearer"}'
    return 200, {"Content-Type": "application/json"}, body


class StalledBody(bytes):
    """A body sent in two halves with a pause between: the headers arrive in time, the rest
    does not (a read timeout while the client reads the body itself)."""

    delay = 5.0


def _stall_body(query):
    body = StalledBody(json.dumps(TOKEN).encode())
    body.delay = min(float(query.get("delay", "5")), 60)
    return 200, {"Content-Type": "application/json"}, body


class DripBody(bytes):
    """A body (or, with `headers=True`, the whole answer, status line included) sent one byte at
    a time, `every` seconds apart: each read is quick, the whole never ends in time."""

    every = 2.0
    headers = False


def _drip(query, headers=False):
    body = DripBody(json.dumps(TOKEN).encode())
    body.every = min(float(query.get("every", "2")), 10)
    body.headers = headers
    return 200, {"Content-Type": "application/json"}, body


# path -> handler(query dict) -> (status, headers, body bytes); GET and POST alike.
FAULTS = {
    "/500": lambda q: _json(500, {"error": "server_error"}),
    "/503": lambda q: (503, HTML, b"<html><body><h1>Service Unavailable</h1></body></html>"),
    "/html": lambda q: (200, HTML, b"<!doctype html><html><body><h1>Sign in</h1></body></html>"),
    "/no-token": lambda q: _json(200, {"token_type": "Bearer", "expires_in": 3600}),
    "/slow": _slow,  # ?delay=seconds (default 5), then a valid token
    "/redirect": lambda q: (302, {"Location": q.get("to", "/token-ok")}, b""),  # ?to=path
    "/huge": _huge,  # ?mb=size (default 5)
    "/429": lambda q: _oauth_error(
        429, "too_many_requests", "Rate limit exceeded.", **{"Retry-After": q.get("retry_after", "30")}
    ),
    "/invalid-client": lambda q: _oauth_error(
        401, "invalid_client", "Client authentication failed.", **{"WWW-Authenticate": 'Basic realm="token"'}
    ),
    "/invalid-grant": lambda q: _oauth_error(400, "invalid_grant", "The grant is invalid or expired."),
    "/invalid-scope": lambda q: _oauth_error(400, "invalid_scope", "The requested scope is invalid."),
    "/unauthorized-client": lambda q: _oauth_error(400, "unauthorized_client", "Grant type not allowed."),
    "/bad-json": lambda q: (200, {"Content-Type": "application/json"}, b'{"access_token": "unterminated'),
    "/token-ok": lambda q: _json(200, TOKEN),
    "/stall-body": _stall_body,  # ?delay=seconds (default 5) between the two halves of the body
    "/drip": _drip,  # ?every=seconds (default 2) between the bytes of the body
    "/drip-headers": lambda q: _drip(q, headers=True),  # the same, from the status line on
    # A Content-Type no real server sends: escape bytes, a bidi override and 5,000 characters.
    "/odd-content-type": lambda q: (
        200,
        {"Content-Type": "text/\x1b[31mhtml" + "\u202e".encode().decode("latin-1") + "x" * 5000},
        b"<html></html>",
    ),
}


class _FaultHandler(QuietHandler):
    def _serve(self):
        parts = urlsplit(self.path)
        body = self.read_body()
        self.server.fault.record(self.command, parts.path, parts.query, dict(self.headers), body)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        scripted = self.server.fault.scripted.get(parts.path)
        handler = FAULTS.get(parts.path, lambda q: _json(404, {"error": "not_found"}))
        status, headers, payload = scripted if scripted else handler(query)
        if isinstance(payload, DripBody):
            self._drip(status, headers, payload)
            return
        if not isinstance(payload, StalledBody):
            self.answer(status, headers, payload)
            return
        half = len(payload) // 2
        self.answer(status, headers, payload[:half], length=len(payload))
        self.wfile.flush()
        time.sleep(payload.delay)
        self.wfile.write(payload[half:])

    def _drip(self, status, headers, payload):
        head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (head + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode("latin-1")
        if not payload.headers:
            self.wfile.write(head)
            head = b""
        try:
            for position in range(len(head) + len(payload)):
                self.wfile.write((head + payload)[position : position + 1])
                self.wfile.flush()
                time.sleep(payload.every)
        except OSError:
            pass  # the client gave up, as it should
        self.close_connection = True

    do_GET = do_POST = _serve


class _FaultHTTPServer(LoopbackServer):
    def handle_error(self, request, client_address):
        # A client that gives up (timeout, size cap) closes the socket mid-write.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FaultServer:
    """Misbehaving HTTP server on 127.0.0.1 in a thread; see FAULTS for the paths.

    Records every request (method, path, query, headers, body) so a test can
    check what the client sent, e.g. ``fault_server.requests_to("/token-ok")``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = []
        self.scripted = {}  # path -> (status, headers, body bytes), set by script()
        self._httpd = _FaultHTTPServer((HOST, 0), _FaultHandler)
        self._httpd.fault = self
        self.host = HOST
        self.port = self._httpd.server_port
        self.base_url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fault-server", daemon=True)
        self._thread.start()

    def url(self, path):
        return self.base_url + path

    def script(self, path, status, headers, body):
        """Answer `path` with exactly this (a test's own hostile answer) until changed."""
        self.scripted[path] = (status, headers, body)

    def record(self, method, path, query, headers, body):
        with self._lock:
            self._requests.append({"method": method, "path": path, "query": query, "headers": headers, "body": body})

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self):
        with self._lock:
            return len(self._requests)

    def requests_to(self, path):
        return [request for request in self.requests if request["path"] == path]

    def reset(self):
        with self._lock:
            self._requests.clear()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def fault_server():
    server = FaultServer()
    yield server
    server.stop()
