"""Run the test authorization server: migrate its SQLite DB, seed it, serve.

    python -m tests.authserver [--port 8765] [--db PATH] [--redirect-uris "URI ..."]
                               [--access-token-seconds 3600] [--port-file PATH]

--port 0 picks a free port; the chosen one is printed and, with --port-file,
written to that file (how the pytest fixture learns it without a race).
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.authserver", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--db", help="SQLite file (default: a temporary one, deleted on exit)")
    parser.add_argument("--redirect-uris", help="space-separated redirect URIs of the Inverbis client")
    parser.add_argument("--access-token-seconds", type=int, help="access token lifetime (default 3600)")
    parser.add_argument("--refresh-token-seconds", type=int, help="refresh token lifetime (default: none)")
    return parser.parse_args(argv)


def configure_environment(args):
    """Settings read AUTHSERVER_* variables; set them before Django starts."""
    # Never run with the application's settings, whatever the parent exported.
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.authserver.settings"
    options = {
        "AUTHSERVER_DB": args.db,
        "AUTHSERVER_REDIRECT_URIS": args.redirect_uris,
        "AUTHSERVER_ACCESS_TOKEN_SECONDS": args.access_token_seconds,
        "AUTHSERVER_REFRESH_TOKEN_SECONDS": args.refresh_token_seconds,
    }
    for name, value in options.items():
        if value is not None:
            os.environ[name] = str(value)


def write_port(port_file, port):
    # Write then rename, so a reader never sees a half-written number.
    tmp = Path(f"{port_file}.tmp")
    tmp.write_text(str(port))
    tmp.replace(port_file)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    temp_dir = None
    if not args.db:
        temp_dir = tempfile.mkdtemp(prefix="authserver-")
        args.db = os.path.join(temp_dir, "db.sqlite3")
    configure_environment(args)
    # SIGTERM (how the fixture stops us) unwinds through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    try:
        import django
        from django.core.management import call_command
        from django.core.servers.basehttp import run
        from django.core.wsgi import get_wsgi_application

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        from tests.authserver.seed import seed

        seed()

        def on_bind(port):
            print(f"Test authorization server listening on http://{args.host}:{port}", flush=True)
            if args.port_file:
                write_port(args.port_file, port)

        run(args.host, args.port, get_wsgi_application(), threading=True, on_bind=on_bind)
    except KeyboardInterrupt:
        pass
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
