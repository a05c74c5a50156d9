"""Run a command against a throwaway PostgreSQL cluster started for it.

    python tests/with_postgres.py [--durable] [--] COMMAND [ARG...]

Creates a cluster with Debian's server binaries (`initdb`, from the `postgresql` package; set
PG_BIN to use another folder) in a temporary folder, starts it on a free loopback port, runs
COMMAND with TEST_DATABASE_URL pointing at it (tests/settings.py reads it), then stops the
cluster and deletes the folder, whatever the command's outcome. Exits with the command's status.

`make test` uses it to run the database-sensitive tests (`pytest -m database`) a second time on
PostgreSQL; the benchmark can use it too. The PostgreSQL server refuses to run as root, so as
root the cluster runs as the `postgres` user (Debian's package creates it), else as `nobody`.
Nothing is configured on the machine and the system's own cluster is never touched.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DATABASE = "partner_connections"
SUPERUSER = "postgres"


def fail(message):
    print(f"with_postgres: {message}", file=sys.stderr)
    sys.exit(2)


def server_binaries():
    """The folder holding initdb and pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BIN"):
        candidates = [os.environ["PG_BIN"]]
    else:
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2]), reverse=True
        )
    for folder in candidates:
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and os.access(os.path.join(folder, "pg_ctl"), os.X_OK):
            return folder
    fail(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin. "
        "Install them with: sudo apt-get install postgresql  (or set PG_BIN to their folder)"
    )


def run_as():
    """The command prefix that runs the server as an unprivileged user (postgres refuses root)."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if not shutil.which("runuser"):
            fail("running as root needs `runuser` (util-linux) to start PostgreSQL as an unprivileged user")
        return ["runuser", "-u", name, "--"], user
    fail("running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as")


def free_port():
    # The port is free now; pg_ctl start fails if another process takes it first, and then the
    # whole start is retried on a new port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{what} failed:\n{result.stdout}{result.stderr}")
    return result


def main(argv):
    # --durable: commits reach the disk (fsync, synchronous_commit, full page writes), as in
    # production; the scale benchmark measures with it.
    durable = argv[:1] == ["--durable"]
    argv = argv[1:] if durable else argv
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        fail("usage: python tests/with_postgres.py [--durable] [--] COMMAND [ARG...]")
    binaries = server_binaries()
    prefix, user = run_as()
    workdir = tempfile.mkdtemp(prefix="partner-connections-pg-")
    data, log = os.path.join(workdir, "data"), os.path.join(workdir, "server.log")
    if user:
        os.chown(workdir, user.pw_uid, user.pw_gid)
    os.chmod(workdir, 0o700)
    started = False
    try:
        # Trust authentication on loopback only: a throwaway cluster reachable by this machine.
        check(
            [
                *prefix,
                f"{binaries}/initdb",
                "-D",
                data,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )
        for _attempt in range(5):
            port = free_port()
            options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200 " + (
                "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
                if durable
                # Durability is pointless for a cluster deleted at the end: faster test runs.
                else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = subprocess.run(
                [*prefix, f"{binaries}/pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"],
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                started = True
                break
            time.sleep(0.2)
        if not started:
            with open(log, errors="replace") as server_log:
                fail(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{server_log.read()[-3000:]}")
        url = f"postgres://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
        print(
            f"with_postgres: PostgreSQL ({os.path.basename(os.path.dirname(binaries))}) on 127.0.0.1:{port}",
            file=sys.stderr,
            flush=True,
        )
        return subprocess.run(command, env={**os.environ, "TEST_DATABASE_URL": url}).returncode
    finally:
        if started:
            subprocess.run([*prefix, f"{binaries}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
