"""Many processes asking for the same connection's token at once: the check that the row lock in
connectors/engine/tokens.py works across processes (tests/engine/test_concurrency.py, tests/benchmark.py).

`python -m tests.processes PK GO_FILE` is one such process: it sets Django up on the database
named by TEST_DATABASE_URL (tests/settings.py reads it), loads the connection, prints "ready",
waits until GO_FILE exists, calls get_access_token() and prints a JSON line with the outcome.
The parent starts them all, waits until every one is ready, then creates GO_FILE, so the calls
start within a millisecond or two of each other.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent


def fingerprint(token):
    return hashlib.sha256(token.encode()).hexdigest()


def database_url(connection):
    """A URL for the database `connection` (a Django DatabaseWrapper) is using right now: in a
    test, the test database, which the child processes must share."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            raise RuntimeError("Processes cannot share an in-memory SQLite database: use a file.")
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor == "postgresql":
        password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        return f"postgres://{quote(settings['USER'], safe='')}{password}@{settings['HOST']}{port}/{settings['NAME']}"
    raise RuntimeError(f"No URL form for the {connection.vendor} backend.")


def get_token_in_processes(pk, db_url, count=8, timeout=120):
    """Run `count` processes calling get_access_token() on connection `pk` at the same moment;
    return their outcomes: [{"token": fingerprint} or {"error": kind, "message": ...}, ...].
    A token travels only as its SHA-256 fingerprint (see fingerprint())."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_URL": db_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryDirectory() as folder:
        go = Path(folder) / "go"
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.processes", str(pk), str(go)],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        try:
            for child in children:
                line = child.stdout.readline().strip()
                if line != "ready":
                    raise RuntimeError(f"A process did not get ready: {line!r} {child.stderr.read()[-3000:]}")
            go.touch()
            outcomes = []
            for child in children:
                out, err = child.communicate(timeout=timeout)
                if child.returncode != 0 or not out.strip():
                    raise RuntimeError(f"A process failed (exit {child.returncode}): {err[-3000:]}")
                outcomes.append(json.loads(out.strip().splitlines()[-1]))
            return outcomes
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()


def _child(pk, go):
    import django

    django.setup()
    from connectors.core import failures
    from connectors.models import Connection

    # Loaded before the start signal, as a long-running process holds a connection object whose
    # token has expired in the meantime.
    connection = Connection.objects.get(pk=pk).specific
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    try:
        token = connection.get_access_token()
    except failures.OAuthFailure as failure:
        print(json.dumps({"error": failure.kind, "message": failure.message}), flush=True)
    else:
        print(json.dumps({"token": fingerprint(token)}), flush=True)


if __name__ == "__main__":
    _child(int(sys.argv[1]), sys.argv[2])
