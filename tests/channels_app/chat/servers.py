"""Real servers for the chat's multi-process tests: daphne processes serving engarde.asgi on the
test database, beside the integration tests' Celery worker (tests/integration/worker.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# As Procfile.local, docker-compose.yml and the Dockerfile run daphne.
WEBSOCKET_MAX_BYTES = 65536


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphne:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Daphne:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        output = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(self.port),
             "--websocket-max-frame-size", str(WEBSOCKET_MAX_BYTES),
             "--websocket-max-message-size", str(WEBSOCKET_MAX_BYTES),
             "engarde.asgi:application"],
            cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne not listening in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
