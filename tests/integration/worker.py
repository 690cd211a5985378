"""A real Celery worker for the integration tests: a separate process, on its own Redis database,
reading the test database that pytest-django created (so the tests must commit: transaction=True).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kombu.pools
from django.conf import settings
from django.db import connection

from engarde.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def broker_url(db_number: int = 7) -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{db_number}"


def reset_connections() -> None:
    """Drop Celery's pooled connections; the next publish opens new ones to the current URL.
    (force_close_all alone leaves the pools closed for good.)"""
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()  # its producer pools are global, keyed by connection


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery at the integration broker, emptied first."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    reset_connections()
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        reset_connections()


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        output = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "engarde", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-2000:]}")
            if b"ready." in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, nothing cleaned up, as a crash would leave it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="engarde.settings.test",
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=broker_url(),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def wait_for(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
