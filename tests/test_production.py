"""The documented production configuration (docs/operations.md, Production): `check --deploy` is silent with
exactly the values the documentation lists, and gunicorn serves the app with WhiteNoise's static files,
https-only cookies, HSTS and the proxy header."""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def documented_values():
    """The ```env block of the Production section of docs/operations.md."""
    readme = (ROOT / "docs" / "operations.md").read_text()
    section = readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```env\n(.*?)```", section, re.S).group(1)
    return dict(line.strip().split("=", 1) for line in block.splitlines() if line.strip())


def production_environment(tmp_path, **changes):
    values = documented_values()
    assert values["DEBUG"] == "false" and values["HTTPS"] == "true"
    # A clean environment: the test process carries test-only variables (its settings' values,
    # the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE) that a production machine does not have.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    env.update(values)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            # The documented PostgreSQL URL names a server that does not exist here; the checks and
            # the page below work the same on a local database.
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "STATIC_ROOT": str(tmp_path / "static"),
            **changes,
        }
    )
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_silent_with_the_documented_values(tmp_path):
    result = manage(production_environment(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_check_deploy_warns_without_them(tmp_path):
    # The test above would pass vacuously if --deploy checked nothing: without HTTPS it warns.
    result = manage(production_environment(tmp_path, HTTPS="false"), "check", "--deploy")
    assert "security.W004" in result.stderr and "security.W012" in result.stderr


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_serves_the_app_with_whitenoise(tmp_path):
    env = production_environment(tmp_path, ALLOWED_HOSTS="127.0.0.1")
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base, https = f"http://127.0.0.1:{port}", {"X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base, timeout=1, allow_redirects=False)
                break
            except requests.RequestException:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)

        # Plain http is sent to https; the proxy's header marks a request as https.
        plain = requests.get(f"{base}/admin/login/", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        page = requests.get(f"{base}/admin/login/", headers=https, allow_redirects=False, timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "secure" in page.headers["Set-Cookie"].lower()  # the CSRF cookie, https only

        # The stylesheet link carries a content hash; WhiteNoise serves it compressed, for a year.
        href = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page.text)
        assert href, "the login page should link the hashed stylesheet"
        css = requests.get(base + href.group(1), headers={**https, "Accept-Encoding": "gzip"}, timeout=10)
        assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
        assert "max-age=315360000" in css.headers["Cache-Control"]
    finally:
        server.terminate()
        server.wait(timeout=10)
