"""/readyz with Redis stopped: a Redis of the test's own, so the suite's Redis keeps running."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from engarde.celery import app as celery_app
from tests.integration.worker import reset_connections

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait(timeout=10)


def redis_settings(url: str) -> dict[str, object]:
    return {
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        },
    }


def test_readyz_names_cache_and_broker_when_redis_stops(
    private_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = private_redis
    broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    try:
        with override_settings(**redis_settings(url)):
            caches["default"].close()
            up = Client().get("/readyz")
            assert up.status_code == 200, up.content

            process.kill()
            process.wait(timeout=10)
            started = time.monotonic()
            down = Client().get("/readyz")
            elapsed = time.monotonic() - started
    finally:
        celery_app.conf.broker_url = broker
        reset_connections()
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["cache", "broker"]
    assert body["checks"]["database"] == "ok"
    assert "Connection" in body["checks"]["cache"]
    # Bounded: a dead Redis must not hang the probe (generous bound for a loaded machine).
    assert elapsed < 15
