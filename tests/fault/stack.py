"""The real parts a fault test stops and starts: a Redis and a PostgreSQL of the test's own (the
suite's, started by `make test`, keep running), daphne serving the webhook, and signed webhooks
sent to it over HTTP as Twilio sends them."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import pytest
import requests
from django.db import connection

from engarde.celery import app as celery_app
from tests.channels_app.chat.servers import Daphne, free_port
from tests.integration.fixtures import PUBLIC, WEBHOOK, sign
from tests.integration.worker import Worker

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def wait_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivateRedis:
    """A Redis on a fixed free port that can be stopped and started again on that same port."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (make test installs it)")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_listening(self.port)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free loopback port, holding a copy of
    the test database (schema and the rows the test committed so far), so that it can be
    stopped and restarted without touching the suite's own server. As scripts/test.sh does,
    initdb and the server run as the unprivileged `postgres` user when the tests run as root."""

    def __init__(self) -> None:
        pg_bin = os.environ.get("PG_BIN", "")
        if not pg_bin or not Path(pg_bin, "initdb").exists():
            pytest.fail("PG_BIN must name PostgreSQL's bin directory (scripts/test.sh sets it)")
        self.bin = Path(pg_bin)
        self.work = Path(tempfile.mkdtemp(prefix="engarde-fault-pg."))
        self.work.chmod(0o755)
        self.data = self.work / "data"
        self.run_dir = self.work / "run"
        self.port = free_port()
        self.name = "engarde_fault"
        self.as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgres://engarde@127.0.0.1:{self.port}/{self.name}"

    def _as_server_user(self, *argv: str | Path) -> None:
        command = [str(part) for part in argv]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init_from_test_database(self) -> PrivatePostgres:
        self.data.mkdir()
        self.run_dir.mkdir()
        if self.as_root:
            shutil.chown(self.data, "postgres")
            shutil.chown(self.run_dir, "postgres")
        self._as_server_user(
            self.bin / "initdb", "-D", self.data, "-U", "engarde", "-A", "trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        self.start()
        source = connection.settings_dict
        client = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "engarde"]
        subprocess.run([self.bin / "createdb", *client, self.name], check=True, capture_output=True)
        dump = subprocess.run(
            [self.bin / "pg_dump", "-h", str(source["HOST"]), "-p", str(source["PORT"]),
             "-U", str(source["USER"]), "--format", "custom", "--no-owner", str(source["NAME"])],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            [self.bin / "pg_restore", *client, "--dbname", self.name, "--no-owner",
             "--exit-on-error"],
            input=dump.stdout, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        return self

    def start(self) -> None:
        # Durable as production is, but without fsync: a clean stop loses nothing either way.
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.run_dir} -c fsync=off"
        self._as_server_user(
            self.bin / "pg_ctl", "-D", self.data, "-w", "-l", self.run_dir / "postgres.log",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown: sessions are ended and the port closes, as in a restart."""
        self._as_server_user(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._as_server_user(
                self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"
            )
        shutil.rmtree(self.work, ignore_errors=True)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()


@dataclass(frozen=True)
class Posted:
    sid: str
    status: int  # 0: no answer (connection refused or reset, timed out)
    seconds: float
    body: str = ""


class WebhookSender:
    """Posts Twilio's webhooks (the incoming message by default) to a server, signed by the
    Twilio SDK's own RequestValidator, each caller on its own keep-alive session."""

    def __init__(self, base_url: str, *, timeout: float = 30) -> None:
        self.base_url = base_url
        self.timeout = timeout

    def post(
        self, session: requests.Session, params: dict[str, str], *, path: str = WEBHOOK
    ) -> Posted:
        started = time.monotonic()
        try:
            response = session.post(
                self.base_url + path,
                data=params,
                headers={"X-Twilio-Signature": sign(PUBLIC + path, params)},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            return Posted(params["MessageSid"], 0, time.monotonic() - started, repr(exc))
        return Posted(
            params["MessageSid"], response.status_code, time.monotonic() - started, response.text
        )


def fresh_log(name: str) -> Path:
    """A log of this run only (the servers append to theirs)."""
    log = ARTIFACTS / f"{name}.log"
    log.unlink(missing_ok=True)
    return log


class Stack(NamedTuple):
    daphne: Daphne
    workers: list[Worker]
    sender: WebhookSender


@contextlib.contextmanager
def running_stack(
    env: dict[str, str], name: str, *, workers: int = 1, timeout: float = 30
) -> Iterator[Stack]:
    """daphne and `workers` Celery workers on `env` (several on one broker race for the same
    turns, as production scales out), with a sender of signed webhooks to daphne; all stopped
    on the way out, whatever happened."""
    daphne = Daphne(env, fresh_log(f"{name}-daphne"))
    started: list[Worker] = []
    try:
        daphne.start()
        for n in range(1, workers + 1):
            worker = Worker(env, fresh_log(f"{name}-{n}-worker"))
            started.append(worker)
            worker.start()
        yield Stack(daphne, started, WebhookSender(daphne.url, timeout=timeout))
    finally:
        for worker in started:
            worker.stop()
        daphne.stop()


def publish_sweep() -> None:
    """What celery beat does on schedule: publish the sweep for a worker to run."""
    celery_app.send_task("channels_app.tasks.sweep_turns_task")


def sweeping_until(predicate: Callable[[], Any], *, timeout: float, every: float = 1.0) -> Any:
    """Wait for `predicate`, publishing the sweep every `every` seconds as beat would."""
    deadline = time.monotonic() + timeout
    next_sweep = 0.0
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= next_sweep:
            publish_sweep()
            next_sweep = time.monotonic() + every
        time.sleep(0.2)
    return predicate()
