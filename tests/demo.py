"""The demo sandbox: the local authorization server plus the app, with one demo connection of
each provider pointing at it, so Generate and Test Connection can be tried without a partner
account.

    make demo        (or: .venv/bin/python -m tests.demo [--port 8000] [--auth-port 8765])

Data lives in demo/ (its own SQLite databases, never the real db.sqlite3). Ctrl+C stops both.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.authserver.seed import CREDENTIALS, TENANT

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "demo"
DEMO_USER = "demo"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="port of the app")
    parser.add_argument("--auth-port", type=int, default=8765, help="port of the authorization server")
    parser.add_argument(
        "--token-seconds",
        type=int,
        default=3600,
        help="lifetime of the access tokens the authorization server issues (e.g. 120, to watch the worker renew)",
    )
    return parser.parse_args(argv)


def start_auth_server(port, token_seconds=3600):
    log = open(DEMO_DIR / "authserver.log", "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.authserver",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(DEMO_DIR / "authserver.sqlite3"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "AUTHSERVER_ACCESS_TOKEN_SECONDS": str(token_seconds)},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_test/stats", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)  # polling a process that is starting: nothing to wait on instead
    process.terminate()
    sys.exit(f"The authorization server did not start; see {DEMO_DIR / 'authserver.log'}.")


def app_environment(args):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": f"sqlite:///{DEMO_DIR / 'app.sqlite3'}",
        # The app is opened as localhost and the authorization server as 127.0.0.1: browsers keep
        # cookies per host name, not per port, so the two sessions must not share a host name.
        "PUBLIC_BASE_URL": f"http://localhost:{args.port}",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        # The demo connections point at the loopback server, which plain http may reach only
        # when listed here (with its port: an entry without one means the scheme's default port).
        "EXTRA_ALLOWED_HOSTS": f"127.0.0.1:{args.auth_port}",
    }


def prepare_app(args):
    """Migrate the demo database, reset the demo login and (re)create the demo connections."""
    os.environ.update(app_environment(args))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from connectors.models import GenericConnection, HypatosConnection, InveniasConnection, InverbisConnection

    call_command("migrate", interactive=False, verbosity=0)
    password = secrets.token_urlsafe(9)
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()

    base = f"http://127.0.0.1:{args.auth_port}"
    realm = f"{base}/auth/realms/{TENANT}/protocol/openid-connect"
    demo = {
        InverbisConnection: {
            "name": "Demo Inverbis (local server)",
            "tenant": TENANT,
            "client_id": CREDENTIALS["inverbis_client_id"],
            "scope": "openid offline_access",
            "authorization_url": f"{realm}/auth",
            "token_url": f"{realm}/token",
        },
        InveniasConnection: {
            "name": "Demo Invenias (local server)",
            "subdomain": "demo",
            "client_id": CREDENTIALS["invenias_client_id"],
            "client_secret": CREDENTIALS["invenias_client_secret"],
            "username": CREDENTIALS["username"],
            "password": CREDENTIALS["password"],
            "scope": "openid profile api email",
            "token_url": f"{base}/identity/connect/token",
            "api_url": f"{base}/api/v1/",
        },
        HypatosConnection: {
            "name": "Demo Hypatos (local server)",
            "endpoint_url": f"{base}/v2",
            "client_id": CREDENTIALS["hypatos_client_id"],
            "client_secret": CREDENTIALS["hypatos_client_secret"],
            "scope": "projects.read documents.read",
            "token_url": f"{base}/v2/auth/token",
        },
        GenericConnection: {
            "name": "Demo any OpenID Connect provider (local server)",
            # The endpoints as discovery at the server's root issuer fills them on save.
            "issuer_url": base,
            "authorization_url": f"{base}/oidc/authorize",
            "token_url": f"{base}/oidc/token",
            "userinfo_url": f"{base}/oidc/userinfo",
            "revocation_url": f"{base}/oidc/revoke",
            "grant": "authorization_code",
            "client_authentication": "client_secret_basic",
            "client_id": CREDENTIALS["generic_client_id"],
            "client_secret": CREDENTIALS["generic_client_secret"],
            "scope": "openid offline_access",
        },
    }
    for model, fields in demo.items():
        connection = model.objects.filter(name=fields["name"]).first() or model()
        for name, value in fields.items():
            setattr(connection, name, value)
        # The models' rules, as an admin save applies them: they also fill blank derived URLs
        # (the generic provider's probe URL), so the first save in the admin moves nothing.
        connection.full_clean()
        connection.save()
    return password


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    DEMO_DIR.mkdir(exist_ok=True)
    # Stopped with SIGTERM (kill, a closing terminal) as with Ctrl+C: unwind, so that both
    # servers stop with us instead of living on.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    auth = start_auth_server(args.auth_port, args.token_seconds)
    worker = None
    try:
        password = prepare_app(args)
        print(
            "\nDemo sandbox ready.\n"
            f"  App:                  http://localhost:{args.port}/admin/  log in as “{DEMO_USER}”, password {password}\n"
            f"  Authorization server: http://127.0.0.1:{args.auth_port}/  "
            f"log in as “{CREDENTIALS['username']}”, password “{CREDENTIALS['password']}” when Generate sends you there\n"
            "  Demo clients (already filled in on the demo connections):\n"
            f"    Inverbis  {CREDENTIALS['inverbis_client_id']}  (public client, no secret)\n"
            f"    Invenias  {CREDENTIALS['invenias_client_id']} / {CREDENTIALS['invenias_client_secret']}\n"
            f"    Hypatos   {CREDENTIALS['hypatos_client_id']} / {CREDENTIALS['hypatos_client_secret']}\n"
            f"    Generic   {CREDENTIALS['generic_client_id']} / {CREDENTIALS['generic_client_secret']}\n"
            "  Try: Partner connections → All connections → Demo Inverbis → OAuth 2.0 → Generate,\n"
            "       then Test Connection; the README's first screen lists the next steps.\n"
            "  Open the app as localhost (not 127.0.0.1), or the two logins would share cookies.\n"
            "  A background worker renews the tokens ahead of expiry (--token-seconds 120 to watch it).\n"
            "  Ctrl+C stops the servers and the worker; data stays in demo/ (delete it to start over).\n",
            flush=True,
        )
        # The background worker keeps the demo tokens alive, as `make run` does.
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload"], cwd=ROOT, env=app_environment(args)
        )
        subprocess.run(
            [sys.executable, "manage.py", "runserver", "--insecure", "--noreload", f"127.0.0.1:{args.port}"],
            cwd=ROOT,
            env=app_environment(args),
            check=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        for process in filter(None, (worker, auth)):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
