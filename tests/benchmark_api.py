"""Benchmark of the token API, run by hand (not in CI): token handouts per second through
POST /api/v1/connections/{id}/token on gunicorn (4 workers) for a valid token, against the same
request to a trivial view of the same app (the floor, measured in the same run), and the latency.

    .venv/bin/python tests/with_postgres.py .venv/bin/python -m tests.benchmark_api   # PostgreSQL
    .venv/bin/python -m tests.benchmark_api                                          # SQLite

The load generator is bounded: CONCURRENCY threads in this process, each sending one request at a
time to 127.0.0.1 for ROUND_SECONDS; rounds of the floor and of the API alternate, so a slower
stretch of the machine weighs on both. Exits with status 1 when a target is missed.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection as db  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

from connectors.models import HypatosConnection  # noqa: E402
from connectors.store import apikeys  # noqa: E402
from tests.processes import database_url  # noqa: E402
from tests.servers import start_auth_server  # noqa: E402
from tests.test_production import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
CONCURRENCY = 8
ROUND_SECONDS = 4
ROUNDS = 4
RESULTS = []


def report(name, value, target, met):
    RESULTS.append(met)
    print(f"{'OK  ' if met else 'MISS'} {name}: {value}   (target: {target})", flush=True)


def start_gunicorn(port):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmark_settings",
        # Persistent database connections, as a production DATABASE_URL should ask for (README, API).
        "TEST_DATABASE_URL": f"{database_url(db)}?conn_max_age=60",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "project.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = send(port, "POST", "/bench/trivial/", {}, b"")
            if status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def send(port, method, path, headers, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def load(port, path, headers, body, seconds):
    """(requests per second, sorted latencies in seconds, failures) of CONCURRENCY threads sending
    one request at a time for `seconds`."""
    latencies, failures, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        mine, failed = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = send(port, "POST", path, headers, body)
            mine.append(time.perf_counter() - started)
            failed += status != 200
        with lock:
            latencies.extend(mine)
            failures[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, sorted(latencies), failures[0]


def percentile(sorted_values, share):
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def benchmark(server):
    connection = HypatosConnection.objects.create(
        name="bench",
        endpoint_url=server.hypatos_endpoint,
        token_url=server.hypatos_token_url,
        client_id=server.hypatos_client_id,
        client_secret=server.hypatos_client_secret,
        scope="projects.read",
    )
    connection.get_access_token()  # a valid token for an hour
    _api_key, raw_key = apikeys.create("benchmark", connections=[connection], may_obtain_tokens=True)
    headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
    body = b"{}"
    token_path = f"/api/v1/connections/{connection.pk}/token"
    server.reset_stats()

    port = free_port()
    gunicorn = start_gunicorn(port)
    try:
        status, answer = send(port, "POST", token_path, headers, body)
        assert status == 200 and json.loads(answer)["access_token"] == connection.access_token, answer
        handed_out = 1
        for path in ("/bench/trivial/", token_path):  # warm every worker
            handed_out += len(load(port, path, headers, body, 1)[1]) if path == token_path else 0
        same_work_path = f"/bench/same-database-work/{connection.pk}/"
        handed_out += len(load(port, same_work_path, headers, body, 1)[1])
        best = {"floor": (0, [], 0), "api": (0, [], 0), "same work": (0, [], 0)}
        for _ in range(ROUNDS):
            for name, path in (("floor", "/bench/trivial/"), ("api", token_path), ("same work", same_work_path)):
                measured = load(port, path, headers, body, ROUND_SECONDS)
                handed_out += len(measured[1]) - measured[2] if name != "floor" else 0
                if measured[0] > best[name][0]:
                    best[name] = measured
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)

    (floor_rps, floor_latencies, floor_failures), (api_rps, api_latencies, api_failures) = best["floor"], best["api"]
    ratio = api_rps / floor_rps
    report(
        f"token handouts per second through the API (gunicorn, {WORKERS} workers, {CONCURRENCY} clients)",
        f"{api_rps:.0f}/s = {ratio:.2f} × the trivial view's {floor_rps:.0f}/s",
        "≥ 0.7 ×",
        ratio >= 0.7,
    )
    same_rps, _same_latencies, same_failures = best["same work"]
    api_failures += same_failures
    report(
        "the same, against a plain view doing only a handout's database work (key, token, event)",
        f"{api_rps:.0f}/s = {api_rps / same_rps:.2f} × that view's {same_rps:.0f}/s",
        "reported (what the API layer itself costs)",
        True,
    )
    report(
        "latency of a token handout, p50 / p99",
        f"{percentile(api_latencies, 0.5) * 1000:.1f} ms / {percentile(api_latencies, 0.99) * 1000:.1f} ms "
        f"(trivial view: {percentile(floor_latencies, 0.5) * 1000:.1f} ms / "
        f"{percentile(floor_latencies, 0.99) * 1000:.1f} ms)",
        "reported",
        True,
    )
    handouts = connection.events.filter(action="token handed out").count()
    renewals = server.stats()["total"]
    report(
        "failed answers; token requests to the partner; handouts recorded as events",
        f"{api_failures + floor_failures}; {renewals}; {handouts} events for {handed_out} tokens",
        "0; 0 (a valid token is never renewed); one event per handout",
        api_failures + floor_failures == 0 and renewals == 0 and handouts == handed_out,
    )


def main():
    setup_test_environment()
    names = setup_databases(verbosity=0, interactive=False)
    print(f"Database: {db.vendor}; Python {sys.version.split()[0]}; {os.cpu_count()} CPU(s)", flush=True)
    try:
        with tempfile.TemporaryDirectory() as folder, start_auth_server(folder) as server:
            benchmark(server)
    finally:
        db.close()
        teardown_databases(names, verbosity=0)
    missed = RESULTS.count(False)
    print(f"{len(RESULTS) - missed} of {len(RESULTS)} targets met.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
