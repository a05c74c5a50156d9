"""The scale benchmark (issue 20), run by hand, never by `make test`: each figure printed beside
its target and the floor measured in the same run (or the 1,000-connection figure).

    .venv/bin/python -m tests.benchmark_scale                                    # SQLite (a file)
    .venv/bin/python tests/with_postgres.py --durable .venv/bin/python -m tests.benchmark_scale

`--sizes 1000,10000` runs fewer sizes; section names as arguments run those only (burst,
planning, commands, pages, workers). PostgreSQL runs with durable commits (`--durable`: fsync,
synchronous_commit and full page writes on), so that commits cost what they cost in production.

Connections are generated with bulk inserts (Hypatos-shaped, client credentials, encrypted
secrets and tokens). The partner is a separate process answering after 50 ms (tests/slow_partner.py),
so that its work does not share a process with the admin requests measured meanwhile. Workers
are real `manage.py run_worker` processes with the default renewal settings (the sweep every 5 s).

The workers' curve uses a partner answering after 200 ms that allows 250 token requests a second
(PARTNER_HOST_LIMITS): one worker then keeps its 16 requests in flight (80/s), each added worker
adds as many, until the partner's limit. At 50 ms one worker is bound by the CPU of a small
machine instead, where more worker processes only share the same cores. Each figure line says
the machine's load average, as the benchmark shares the machine with whatever else runs.
"""

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.benchmark_scale_settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection as db  # noqa: E402
from django.db import connections as db_connections  # noqa: E402
from django.db import reset_queries, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, setup_test_environment, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from connectors.core.app_settings import app_settings  # noqa: E402
from connectors.engine import queue, schedule  # noqa: E402
from connectors.models import Connection, Event, HypatosConnection  # noqa: E402
from tests.processes import REPO_ROOT, database_url  # noqa: E402

RESULTS = []
SIZES = (1000, 10000, 100000)
BURST = 1000
LATENCY = 0.05
SETTINGS = "tests.benchmark_scale_settings"


def report(name, value, target, met):
    RESULTS.append(met)
    print(f"{'OK  ' if met else 'MISS'} {name}: {value}   (target: {target})", flush=True)


def load():
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def note(name, value):
    print(f"     {name}: {value}", flush=True)


# --- the partner and the workers, each a process of its own ---------------------------------------


class Partner:
    """tests/slow_partner.py in its own process; `stats()` reads (and resets) its counts."""

    def __init__(self, delay):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.slow_partner", str(delay)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        self.endpoint = self.process.stdout.readline().strip()
        self.token_url = f"{self.endpoint}/auth/token"

    def stats(self):
        root = self.endpoint.rsplit("/v2", 1)[0]
        with urllib.request.urlopen(f"{root}/stats", timeout=10) as answer:  # noqa: S310 (loopback)
            return json.loads(answer.read())

    def stop(self):
        self.process.terminate()
        self.process.wait()


def worker_env():
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "TEST_DATABASE_URL": database_url(db),
        "PYTHONPATH": str(REPO_ROOT),
    }


def start_worker(name, host_limits=None):
    command = [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"]
    return subprocess.Popen(
        [*command, "--worker-id", name],
        cwd=REPO_ROOT,
        env={**worker_env(), "SCALE_PARTNER_HOST_LIMITS": json.dumps(host_limits or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def peak_rss_mib(process):
    """The process's peak resident memory (VmHWM), read while it still runs."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_until_exit(process):
    """A command's peak resident memory: VmHWM read until it exits (its last reading is the
    peak; the rusage of a child would count the parent's memory it was forked from)."""
    peak = 0.0
    while process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            peak = max(peak, peak_rss_mib(process))
        time.sleep(0.02)
    return peak


def stop_workers(processes):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate, timeout, what, step=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(step)


# --- the rows -------------------------------------------------------------------------------------


def generate(count, partner):
    """`count` authorized Hypatos connections at `partner`, planned an hour ahead (none due), by
    bulk inserts of the base rows and the provider rows (multi-table inheritance)."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    Event.objects.all().delete()
    Connection.objects.all().delete()
    now = timezone.now()
    for start in range(0, count, 5000):
        batch = [
            Connection(
                provider="hypatos",
                grant="client_credentials",
                name=f"Scale {n:06d}",
                client_id=f"scale-{n}",
                client_secret="scale-secret",
                scope="projects.read",
                token_url=partner.token_url,
                access_token=f"token-{n}",
                status="authorized",
                token_obtained_at=now,
                token_expires_at=now + timedelta(hours=1, minutes=2),
                next_renewal_at=now + timedelta(hours=1),
                last_test_at=now,
                last_test_passed=True,
                last_test_message="Passed.",
            )
            for n in range(start, min(start + 5000, count))
        ]
        with transaction.atomic():
            Connection.objects.bulk_create(batch, batch_size=1000)
    ids = list(Connection.objects.order_by("pk").values_list("pk", flat=True))
    table = HypatosConnection._meta.db_table
    with transaction.atomic(), db.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" ("connection_ptr_id", "endpoint_url") VALUES (%s, %s)',
            [(pk, partner.endpoint) for pk in ids],
        )
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("ANALYZE")
    return ids


def make_due(ids):
    """Make `ids` due now, as their plans coming due at the same moment would."""
    now = timezone.now()
    for start in range(0, len(ids), 5000):
        Connection.objects.filter(pk__in=ids[start : start + 5000]).update(
            next_renewal_at=now, token_expires_at=now + timedelta(minutes=2), token_obtained_at=now - timedelta(hours=1)
        )
    return now


def renewed_since(ids, began):
    pending = 0
    for start in range(0, len(ids), 5000):
        pending += Connection.objects.filter(pk__in=ids[start : start + 5000], token_obtained_at__lt=began).count()
    return pending == 0


def renewal_events(ids):
    """(connections renewed exactly once, most renewals of one connection) among `ids`."""
    per = (
        Event.objects.filter(connection_id__in=ids, action="token requested")
        .values("connection_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    counts = list(per)
    return sum(1 for n in counts if n == 1), max(counts, default=0)


# --- the admin meanwhile ----------------------------------------------------------------------------


class Operator:
    """An operator in the admin, in a thread of this process: the overview list page and a save of
    one connection's change form, again and again at a person's pace (half a second between
    rounds); each request's wall time."""

    def __init__(self):
        user = get_user_model().objects.filter(username="scale").first() or get_user_model().objects.create_superuser(
            "scale", "scale@example.com", "pw"
        )
        self.user_pk = user.pk
        self.edited = HypatosConnection.objects.create(
            name="Edited meanwhile", client_id="x", client_secret="y", endpoint_url="https://api.cloud.hypatos.ai/v2"
        )
        self.stop = threading.Event()
        self.lists, self.saves = [], []

    def run(self):
        client = Client()
        client.force_login(get_user_model().objects.get(pk=self.user_pk))
        url = f"/admin/connectors/hypatosconnection/{self.edited.pk}/change/"
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                assert client.get("/admin/connectors/connection/").status_code == 200
                self.lists.append(time.perf_counter() - started)
                form = {
                    "name": "Edited meanwhile",
                    "endpoint_url": "https://api.cloud.hypatos.ai/v2",
                    "client_id": f"x{time.time()}",
                    "client_secret": "",
                    "scope": "",
                    "token_url": "",
                }
                started = time.perf_counter()
                answer = client.post(url, form)
                self.saves.append(time.perf_counter() - started)
                assert answer.status_code in (200, 302), answer.status_code
                time.sleep(0.5)  # an operator's pace, not a load generator
        finally:
            db_connections.close_all()

    @contextlib.contextmanager
    def running(self):
        self.stop.clear()
        self.lists, self.saves = [], []
        thread = threading.Thread(target=self.run)
        thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            thread.join()


def median_ms(values):
    return statistics.median(values) * 1000 if values else float("nan")


# --- the sections ---------------------------------------------------------------------------------


def burst(sizes, partner):
    """At each size, 1,000 connections come due at the same moment; one `run_worker` renews them."""
    floor = BURST * LATENCY / app_settings.RENEWAL_HOST_CONCURRENCY
    for size in sizes:
        ids = generate(size, partner)
        due_ids = ids[:: max(1, size // BURST)][:BURST]
        operator = Operator()
        worker = start_worker(f"scale-{size}")
        try:
            wait_for(lambda: _finished("sweep") >= 1, 60, "the worker's first sweep")
            with operator.running():
                # The admin with the worker idle, the machine's own pace: 4 s and at least 5 of each.
                time.sleep(4)
                wait_for(lambda o=operator: len(o.saves) >= 5, 120, "the idle admin", step=0.1)
                idle_lists, idle_saves = list(operator.lists), list(operator.saves)
                operator.lists[:], operator.saves[:] = [], []
                partner.stats()
                began = make_due(due_ids)
                started = time.perf_counter()
                queue.enqueue("renew_due_now")  # what the plans' wake-up is: one drain
                wait_for(lambda d=due_ids, b=began: renewed_since(d, b), 300, "the burst", step=0.02)
                wall = time.perf_counter() - started
                busy_lists, busy_saves = list(operator.lists), list(operator.saves)
            stats = partner.stats()
            rss = peak_rss_mib(worker)
        finally:
            stop_workers([worker])
        once, most = renewal_events(due_ids)
        report(
            f"{size:,} connections: a burst of {BURST:,} due at once, one worker, partner at {LATENCY * 1000:.0f} ms",
            f"{wall:.2f} s ({BURST / wall:.0f} renewals/s); floor {floor:.2f} s "
            f"({app_settings.RENEWAL_HOST_CONCURRENCY} in flight at {LATENCY * 1000:.0f} ms); {load()}",
            "≤ 10 s",
            wall <= 10,
        )
        report(
            f"{size:,} connections: each renewed exactly once",
            f"{stats['token_requests']} token requests from {stats['clients']} connections; {once} renewed once, "
            f"at most {most} times; at most {stats['most_in_flight']} in flight at the host",
            f"{BURST} and {BURST}, ≤ {app_settings.RENEWAL_HOST_CONCURRENCY} in flight",
            stats["token_requests"] == BURST
            and stats["clients"] == BURST
            and once == BURST
            and stats["most_in_flight"] <= app_settings.RENEWAL_HOST_CONCURRENCY,
        )
        for what, idle, busy in (("list page", idle_lists, busy_lists), ("save", idle_saves, busy_saves)):
            ratio = median_ms(busy) / median_ms(idle)
            report(
                f"{size:,} connections: the admin's {what} during the burst",
                f"median {median_ms(busy):.1f} ms over {len(busy)} vs {median_ms(idle):.1f} ms idle over "
                f"{len(idle)} = {ratio:.2f} ×",
                "≤ 1.5 ×",
                ratio <= 1.5,
            )
        note(f"{size:,} connections: peak RSS of the worker", f"{rss:.0f} MiB")
        RSS.setdefault("worker", {})[size] = rss
    _flat("worker", sizes)


RSS = {}


def _flat(what, sizes):
    figures = RSS.get(what, {})
    if 1000 in figures and max(figures) > 1000:
        largest = max(figures)
        ratio = figures[largest] / figures[1000]
        report(
            f"peak RSS of {what} at {largest:,} vs 1,000 connections",
            f"{figures[largest]:.0f} MiB vs {figures[1000]:.0f} MiB = {ratio:.2f} ×",
            "≤ 1.3 ×",
            ratio <= 1.3,
        )


def _finished(task_name):
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=f"connectors.engine.tasks.{task_name}", status="SUCCESSFUL").count()


def planning(sizes, partner):
    """plan_unplanned over N connections without a plan: its queries and time."""
    figures = {}
    for size in sizes:
        generate(size, partner)
        Connection.objects.update(next_renewal_at=None)
        reset_queries()
        with CaptureQueriesContext(db) as queries:
            started = time.perf_counter()
            planned = schedule.plan_unplanned()
            wall = time.perf_counter() - started
        figures[size] = (len(queries), wall)
        report(
            f"{size:,} connections: planning {planned:,} unplanned",
            f"{len(queries)} queries, {wall * 1000:.0f} ms ({wall / size * 1e6:.1f} µs per row)",
            "queries constant in N",
            len(queries) == figures[min(figures)][0],
        )


def commands(sizes, partner):
    """Peak RSS of the commands that walk every row, each a process of its own."""
    commands_run = {
        # Every connection tested; none has a stored client secret here, so each test fails at once
        # without a request (what the memory figure is about is the walk, not the partner).
        "test_connections": ["test_connections", "--json"],
        "check --deploy": ["check", "--deploy"],
        "export_connections": ["export_connections"],
    }
    for size in sizes:
        generate(size, partner)
        Connection.objects.update(client_secret="")  # an encrypted empty value: "not stored"
        for name, arguments in commands_run.items():
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "manage.py", *arguments],
                cwd=REPO_ROOT,
                env=worker_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            rss = peak_until_exit(process)
            wall = time.perf_counter() - started
            RSS.setdefault(name, {})[size] = rss
            note(f"{size:,} connections: {name}", f"{wall:.1f} s, peak RSS {rss:.0f} MiB")
    for name in commands_run:
        _flat(name, sizes)


def pages(sizes, partner):
    """The admin index (its banner) and the overview list at N connections, against 1,000; a few
    connections need attention at every size."""
    user = get_user_model().objects.filter(username="scale").first() or get_user_model().objects.create_superuser(
        "scale", "scale@example.com", "pw"
    )
    client = Client()
    client.force_login(user)
    figures = {}
    for size in sizes:
        ids = generate(size, partner)
        Connection.objects.filter(pk__in=ids[:5]).update(status="needs_reauthorization")
        Connection.objects.filter(pk__in=ids[5:8]).update(renewal_failing_since=timezone.now())
        Connection.objects.filter(pk__in=ids[8:10]).update(last_test_passed=False, last_test_at=timezone.now())
        for url in ("/admin/", "/admin/connectors/connection/"):
            assert client.get(url).status_code == 200
            timings = []
            for _ in range(15):
                started = time.perf_counter()
                client.get(url)
                timings.append(time.perf_counter() - started)
            figures[url, size] = min(timings)
        from connectors.store import health

        timings = []
        for _ in range(15):
            started = time.perf_counter()
            health.attention_counts(Connection.objects.all())
            timings.append(time.perf_counter() - started)
        figures["banner", size] = min(timings)
    base = min(sizes)
    for key, label in (
        ("banner", "the banner's counts"),
        ("/admin/", "the admin index (with the banner)"),
        ("/admin/connectors/connection/", "the overview list page"),
    ):
        for size in sizes:
            ratio = figures[key, size] / figures[key, base]
            line = (
                f"{figures[key, size] * 1000:.1f} ms vs {figures[key, base] * 1000:.1f} ms at {base:,} = {ratio:.2f} ×"
            )
            if key == "banner":
                report(f"{size:,} connections: {label}", line, "flat in N (≤ 1.5 ×)", ratio <= 1.5)
            else:
                note(f"{size:,} connections: {label}", line)


WORKERS_LATENCY = 0.2
PARTNER_RATE = 250  # token requests a second the workers' partner allows


def workers(size=10000):
    """PostgreSQL: 1, 2 and 4 `run_worker` processes on 10,000 due connections at a partner that
    answers after 200 ms and allows 250 requests a second; then one of two workers killed
    mid-burst, its claims taken over."""
    if db.vendor != "postgresql":
        note("workers", "one worker on SQLite by design (a single writer): run this section on PostgreSQL")
        return
    partner = Partner(WORKERS_LATENCY)
    try:
        _workers(partner, size)
    finally:
        partner.stop()


def _workers(partner, size):
    host = partner.endpoint.split("//", 1)[1].split("/", 1)[0]
    limits = {host: {"calls": PARTNER_RATE, "per_seconds": 1}}
    per_worker = app_settings.RENEWAL_HOST_CONCURRENCY / WORKERS_LATENCY
    throughput = {}
    for count in (1, 2, 4):
        ids = generate(size, partner)
        processes = [start_worker(f"scale-{count}-{n}", limits) for n in range(count)]
        try:
            wait_for(lambda: _finished("sweep") >= 1, 60, "the workers' first sweep")
            time.sleep(1)
            partner.stats()
            began = make_due(ids)
            started = time.perf_counter()
            queue.enqueue("renew_due_now")
            wait_for(lambda i=ids, b=began: renewed_since(i, b), 900, "the renewals", step=0.2)
            wall = time.perf_counter() - started
            stats = partner.stats()
            rss = max(peak_rss_mib(process) for process in processes)
        finally:
            stop_workers(processes)
        once, most = renewal_events(ids)
        throughput[count] = size / wall
        floor = min(count * per_worker, PARTNER_RATE)
        report(
            f"{count} worker{'s' if count > 1 else ''}: {size:,} due connections renewed (partner at "
            f"{WORKERS_LATENCY * 1000:.0f} ms, allowing {PARTNER_RATE}/s)",
            f"{wall:.1f} s = {size / wall:.0f} renewals/s (on paper {floor:.0f}/s); {stats['token_requests']} token "
            f"requests, {once:,} renewed exactly once (at most {most}); at most {stats['most_in_flight']} in "
            f"flight; worker peak RSS {rss:.0f} MiB; {load()}",
            "each exactly once",
            stats["token_requests"] == size and once == size,
        )
    report(
        "throughput with 2 workers vs 1 (PostgreSQL)",
        f"{throughput[2]:.0f} vs {throughput[1]:.0f} renewals/s = {throughput[2] / throughput[1]:.2f} ×; "
        f"4 workers {throughput[4]:.0f}/s = {throughput[4] / throughput[1]:.2f} × (the partner allows {PARTNER_RATE}/s)",
        "≥ 1.7 ×",
        throughput[2] >= 1.7 * throughput[1],
    )
    # A worker killed while it holds claims: the other takes them over once they expire.
    ids = generate(size // 5, partner)
    processes = [start_worker(f"scale-kill-{n}", limits) for n in range(2)]
    try:
        wait_for(lambda: _finished("sweep") >= 1, 60, "the workers' first sweep")
        partner.stats()
        began = make_due(ids)
        queue.enqueue("renew_due_now")
        wait_for(lambda: Connection.objects.exclude(renewal_claimed_by="").count() >= 50, 60, "claims")
        victim = processes[0]
        victim.kill()
        victim.wait()
        killed_at = time.perf_counter()
        wait_for(lambda: renewed_since(ids, began), 600, "the take-over", step=0.2)
        after = time.perf_counter() - killed_at
        stats = partner.stats()
    finally:
        stop_workers(processes)
    once, most = renewal_events(ids)
    report(
        f"a worker killed while renewing {len(ids):,}: its claims taken over",
        f"all renewed {after:.1f} s after the kill (claims live {3 * app_settings.HTTP_TIMEOUT + 10} s); "
        f"{stats['token_requests']} token requests; {once:,} renewed exactly once, at most {most} times",
        "all renewed; none twice except a request the killed worker had in flight",
        renewed_since(ids, began) and most <= 2,
    )


def main():
    import logging

    logging.getLogger("connectors").setLevel(logging.WARNING)
    arguments = sys.argv[1:]
    sizes = SIZES
    if "--sizes" in arguments:
        at = arguments.index("--sizes")
        sizes = tuple(int(size) for size in arguments[at + 1].split(","))
        del arguments[at : at + 2]
    only = set(arguments)
    setup_test_environment()
    names = setup_databases(verbosity=0, interactive=False)
    print(f"Database: {db.vendor}; Python {sys.version.split()[0]}; {os.cpu_count()} CPU(s); sizes {sizes}", flush=True)
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            note("PostgreSQL durability", f"fsync={fsync}, synchronous_commit={cursor.fetchone()[0]}")
    partner = Partner(LATENCY)
    try:
        sections = {
            "burst": lambda: burst(sizes, partner),
            "planning": lambda: planning(sizes, partner),
            "pages": lambda: pages(sizes, partner),
            "commands": lambda: commands(sizes, partner),
            "workers": workers,
        }
        for name, section in sections.items():
            if not only or name in only:
                section()
    finally:
        partner.stop()
        reset_queries()
        db_connections.close_all()
        teardown_databases(names, verbosity=0)
    missed = RESULTS.count(False)
    print(f"{len(RESULTS) - missed} of {len(RESULTS)} targets met.")
    return 1 if missed else 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        sys.exit(main())
