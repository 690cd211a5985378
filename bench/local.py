"""What the benchmarks share: Django started in-process on the local settings (a throwaway
SQLite database, or DATABASE_URL if set, without the debug query log), and the helpers of
those that start servers: daphne processes and Celery workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_start(**environ: str) -> str:
    """Set Django up for this process; `environ` overrides the environment. The work folder."""
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="engarde-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engarde.settings.local")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("ENGARDE_VAR_DIR", workdir)
    os.environ["DEBUG"] = "False"  # no query log growing during the run
    os.environ.update(environ)

    import django

    django.setup()
    return workdir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def stack_start(
    *, application: str, env: dict[str, str], logs: Path, ports: list[int], workers: int
) -> list[subprocess.Popen[bytes]]:
    """A daphne process serving `application` on each of `ports` (like several behind a load
    balancer: they share the database and, with REDIS_URL, the channel layer) and `workers`
    Celery workers (thread pool, 4 threads) on the one broker, each logging to its own file in
    `logs`. Returns once every server answers; the processes are for `stack_stop`."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
            cwd=ROOT, env=env, stdout=(logs / f"web{n}.log").open("w"), stderr=subprocess.STDOUT,
        )
        for n, port in enumerate(ports)
    ] + [
        # Each worker its own node name: two of one name on a broker confuse Celery's control.
        subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "engarde", "worker", "--pool", "threads",
             "--concurrency", "4", "--hostname", f"bench{n}@%h", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=(logs / f"worker{n}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for n in range(workers)
    ]  # fmt: skip
    try:
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/healthz")
    except BaseException:
        stack_stop(processes)
        raise
    return processes


def stack_describe(servers: int, workers: int) -> str:
    """What the figures were taken on, for the first line of a benchmark's output."""
    from django.conf import settings
    from django.db import connection

    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    return (
        f"daphne processes: {servers}, Celery workers: {workers} (4 threads each); "
        f"database: {connection.vendor}; broker: {broker}"
    )


def stack_stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
