"""docker-compose.yml's services, run piecewise and for real: no Docker here, so each service's
command runs in a copy of the image's build context, against the PostgreSQL and Redis that
`make test` started, with the environment Compose would give it."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from cryptography.fernet import Fernet

from tests.deploy.production import (
    Image,
    InterpolationError,
    Service,
    build_image,
    free_port,
    load_compose,
    load_dockerfile,
    run,
    running,
    service_command,
    service_environment,
    wait_until,
)

HOST = "console.example.test"
# Redis db 5: the suite's own tests use db 0 of the same server.
REDIS_DB = 5


def operator_environment(**overrides: str) -> dict[str, str]:
    """What an operator puts in .env: real-looking secrets, freshly generated."""
    environ = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PII_HASH_KEY": secrets.token_urlsafe(48),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "ALLOWED_HOSTS": HOST,
        "PUBLIC_BASE_URL": f"https://{HOST}",
        # WhatsApp is on by default; without its account the deploy check rightly warns.
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_WHATSAPP_NUMBER": "+14155238886",
        # Email briefs are on by default too: SendGrid sends, Mailgun backs it up.
        "SENDGRID_API_KEY": "SG." + secrets.token_urlsafe(32),
        "MAILGUN_API_KEY": secrets.token_hex(16),
        "MAILGUN_SENDER_DOMAIN": "mg.console.example.test",
        "MAILGUN_WEBHOOK_SIGNING_KEY": secrets.token_hex(16),
        "ANYMAIL_WEBHOOK_SECRET": f"esp:{secrets.token_urlsafe(16)}",
    }
    environ.update(overrides)
    return environ


@dataclass
class Deployment:
    image: Image
    operator_env: dict[str, str]
    compose: dict[str, Any]
    tmp: Path

    def env(self, service: str, **overrides: str) -> dict[str, str]:
        declared = service_environment(self.compose, service, self.operator_env)
        return self.image.environment({**declared, **overrides})

    def command(self, service: str) -> list[str]:
        return service_command(self.compose, service)

    def run(
        self, argv: list[str], service: str, **overrides: str
    ) -> subprocess.CompletedProcess[str]:
        return run(argv, image=self.image, env=self.env(service, **overrides))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url.startswith("redis"):
        pytest.skip(
            "needs the PostgreSQL and Redis that `make test` starts (DATABASE_URL, REDIS_URL)"
        )
    isolated_redis = re.sub(r"(/\d*)?$", f"/{REDIS_DB}", redis_url, count=1)
    with redis.Redis.from_url(isolated_redis) as client:
        client.flushdb()
    operator_env = operator_environment(DATABASE_URL=database_url, REDIS_URL=isolated_redis)
    tmp = tmp_path_factory.mktemp("deploy")
    return Deployment(
        image=build_image(tmp / "app"),
        operator_env=operator_env,
        compose=load_compose(operator_env),
        tmp=tmp,
    )


@pytest.fixture(scope="module")
def collectstatic(deployment: Deployment) -> subprocess.CompletedProcess[str]:
    return deployment.image.run_build_step("collectstatic")


@pytest.fixture(scope="module")
def migrated(deployment: Deployment) -> subprocess.CompletedProcess[str]:
    result = deployment.run(deployment.command("migrate"), "migrate")
    if result.returncode != 0:
        pytest.fail(f"migrate failed:\n{result.stdout}\n{result.stderr}")
    return result


# Configuration: what the files declare, and what production refuses.


@pytest.mark.parametrize(
    "name",
    ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "PII_HASH_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD"],
)
def test_compose_refuses_to_start_without_required_setting(name: str) -> None:
    environ = operator_environment()
    load_compose(environ)
    del environ[name]
    with pytest.raises(InterpolationError, match=name):
        load_compose(environ)


def test_compose_web_command_is_the_image_default() -> None:
    compose = load_compose(operator_environment())
    assert service_command(compose, "web") == load_dockerfile().cmd


def test_check_deploy_reports_no_issues(deployment: Deployment) -> None:
    result = deployment.run(["python", "manage.py", "check", "--deploy"], "web", DEBUG="False")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in result.stdout, output


@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "PII_HASH_KEY"])
def test_production_settings_refuse_to_start_without_key(deployment: Deployment, name: str) -> None:
    env = deployment.env("web")
    del env[name]
    result = run(["python", "manage.py", "check"], image=deployment.image, env=env)
    assert result.returncode != 0
    # The exception's own line, not a source line quoted in the traceback.
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and name in last_line, result.stderr


# The build step and the one-shot migrate service.


def test_collectstatic_build_step_writes_hashed_files(
    deployment: Deployment, collectstatic: subprocess.CompletedProcess[str]
) -> None:
    assert collectstatic.returncode == 0, collectstatic.stdout + collectstatic.stderr
    static_root = deployment.image.app_dir / "staticfiles"
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    assert re.fullmatch(
        r"unfold/css/styles\.[0-9a-f]{12}\.css", manifest["paths"]["unfold/css/styles.css"]
    )


def test_migrate_command_applies_every_migration(
    deployment: Deployment, migrated: subprocess.CompletedProcess[str]
) -> None:
    assert "Applying accounts.0001_initial... OK" in migrated.stdout
    check = deployment.run(["python", "manage.py", "migrate", "--check"], "migrate")
    assert check.returncode == 0, check.stdout + check.stderr
    # Every deploy runs it again: the second run must be a no-op, not an error.
    again = deployment.run(deployment.command("migrate"), "migrate")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No migrations to apply." in again.stdout


def test_schedules_command_writes_the_periodic_tasks(
    deployment: Deployment, migrated: subprocess.CompletedProcess[str]
) -> None:
    first = deployment.run(deployment.command("schedules"), "schedules")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "sweep unfinished turns: channels_app.tasks.sweep_turns_task every 60 s" in first.stdout
    # Run on every deploy: a second run updates in place.
    again = deployment.run(deployment.command("schedules"), "schedules")
    assert again.returncode == 0 and again.stdout == first.stdout


# web: daphne, bound to loopback on a free port instead of 0.0.0.0:8000.


@dataclass
class Web:
    service: Service
    port: int
    env: dict[str, str]


def get(port: int, path: str, *, https: bool) -> tuple[int, dict[str, str], bytes]:
    """A request as the load balancer forwards it: the public Host, and the original scheme."""
    headers = {"Host": HOST}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def rebind(argv: list[str], port: int) -> list[str]:
    rebound = list(argv)
    rebound[rebound.index("--bind") + 1] = "127.0.0.1"
    rebound[rebound.index("--port") + 1] = str(port)
    return rebound


@pytest.fixture(scope="module")
def web(
    deployment: Deployment,
    collectstatic: subprocess.CompletedProcess[str],
    migrated: subprocess.CompletedProcess[str],
) -> Iterator[Web]:
    assert collectstatic.returncode == 0, collectstatic.stderr
    port = free_port()
    env = deployment.env("web")
    argv = rebind(deployment.command("web"), port)

    def healthy() -> bool:
        try:
            return get(port, "/healthz", https=False)[0] == 200
        except OSError:
            return False

    with running(
        argv, image=deployment.image, env=env, log_path=deployment.tmp / "web.log"
    ) as service:
        wait_until(healthy, timeout=30, service=service, what="GET /healthz 200")
        yield Web(service=service, port=port, env=env)


def test_web_answers_health_paths_over_plain_http(web: Web) -> None:
    # The load balancer probes over plain http: these two paths are exempt from the redirect.
    status, _, body = get(web.port, "/healthz", https=False)
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = get(web.port, "/readyz", https=False)
    assert status == 200, body
    assert json.loads(body) == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_web_redirects_plain_http_to_https(web: Web) -> None:
    status, headers, _ = get(web.port, "/admin/login/", https=False)
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/admin/login/"


def test_web_serves_the_unfold_login_page_over_https(web: Web) -> None:
    status, headers, body = get(web.port, "/admin/login/", https=True)
    page = body.decode()
    assert status == 200, page
    assert 'id="login-form"' in page
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # The stylesheet is unfold's, under its hashed name, and WhiteNoise serves it.
    match = re.search(r'href="(/static/unfold/css/styles\.[0-9a-f]{12}\.css)"', page)
    assert match, page
    status, headers, _ = get(web.port, match.group(1), https=True)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")


def test_image_healthcheck_passes_against_web(deployment: Deployment, web: Web) -> None:
    program, flag, code = deployment.image.dockerfile.healthcheck
    assert "127.0.0.1:8000" in code
    probe = [program, flag, code.replace("127.0.0.1:8000", f"127.0.0.1:{web.port}")]
    result = run(probe, image=deployment.image, env=web.env, timeout=15)
    assert result.returncode == 0, result.stderr


# worker and beat.


def test_worker_answers_ping(
    deployment: Deployment, migrated: subprocess.CompletedProcess[str]
) -> None:
    env = deployment.env("worker")
    # A probe app of its own: the test process's engarde app is bound to the suite's broker.
    probe = Celery("probe", broker=env["REDIS_URL"])
    probe.conf.broker_connection_timeout = 2
    log_path = deployment.tmp / "worker.log"
    try:
        with running(
            deployment.command("worker"), image=deployment.image, env=env, log_path=log_path
        ) as worker:
            replies = wait_until(
                lambda: probe.control.ping(timeout=1.0),
                timeout=45,
                service=worker,
                what="a reply to a Celery ping",
            )
            assert {"ok": "pong"} in [reply for answer in replies for reply in answer.values()]
            assert "ready." in worker.log()
            # The compose healthcheck pings this worker by name; Docker sets HOSTNAME.
            kind, script = deployment.compose["services"]["worker"]["healthcheck"]["test"]
            assert kind == "CMD-SHELL"
            healthcheck = subprocess.run(
                ["/bin/sh", "-c", script],
                cwd=deployment.image.app_dir,
                env={**env, "HOSTNAME": socket.gethostname()},
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert healthcheck.returncode == 0, healthcheck.stdout + healthcheck.stderr
            assert "pong" in healthcheck.stdout
    finally:
        probe.close()


def test_beat_runs_the_database_scheduler(
    deployment: Deployment, migrated: subprocess.CompletedProcess[str]
) -> None:
    log_path = deployment.tmp / "beat.log"
    with running(
        deployment.command("beat"),
        image=deployment.image,
        env=deployment.env("beat"),
        log_path=log_path,
    ) as beat:
        wait_until(
            lambda: "beat: Starting..." in beat.log(),
            timeout=30,
            service=beat,
            what="beat: Starting...",
        )
        # It must stay up: the DatabaseScheduler reads its tables as it starts and on every tick
        # (maxinterval 5 s), and a database it cannot use is a traceback and an exit.
        stay_until = time.monotonic() + 5
        while time.monotonic() < stay_until:
            assert beat.alive(), beat.log()
            time.sleep(0.2)
        log = beat.log()
    assert "scheduler -> django_celery_beat.schedulers.DatabaseScheduler" in log
    assert "Traceback" not in log and "ERROR" not in log, log
