from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from twilio.request_validator import RequestValidator

from accounts.models import SubscriptionTier, User
from accounts.services import phone_number_add
from agents.demo import demo_marketing_seed
from tests.channels_app.fake_twilio import FakeTwilio
from tests.factories import TenantFactory, UserFactory
from tests.integration.worker import Worker, broker, broker_url, worker_env

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "integration-auth-token-0123456789"
OUR_NUMBER = "+14155238886"
PUBLIC = "https://console.example.com"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
STATUS = "/api/v1/channels/whatsapp/status"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        yield fake


def twilio_settings(twilio: FakeTwilio) -> dict[str, Any]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": OUR_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "TWILIO_RETRY_BACKOFF_SECONDS": "0.05",
        "PUBLIC_BASE_URL": PUBLIC,
        "TURN_LEASE_SECONDS": "3",
        "ENABLE_WHATSAPP": "True",
    }


@pytest.fixture
def worker(twilio: FakeTwilio, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A worker of this test's own, started lazily (it needs the test database's name).

    One per test, not per module: each transactional test's flush makes Django create the
    content types anew, with new ids, and a long-lived worker would keep the old ones cached.
    """
    state: dict[str, Worker] = {}

    def start() -> Worker:
        if "worker" not in state:
            env = worker_env(**twilio_settings(twilio))
            state["worker"] = Worker(env, ARTIFACTS / f"worker-{request.node.name}.log")
            state["worker"].start()
        return state["worker"]

    yield type("LazyWorker", (), {"get": staticmethod(start)})
    if "worker" in state:
        state["worker"].stop()


@pytest.fixture
def wired(twilio: FakeTwilio, transactional_db: None) -> Iterator[None]:
    """This process set up as the worker is: the same Twilio, the integration broker."""
    twilio.reset()
    values: dict[str, Any] = twilio_settings(twilio)
    values.update(TWILIO_RETRY_BACKOFF_SECONDS=0.05, TURN_LEASE_SECONDS=3, ENABLE_WHATSAPP=True)
    with override_settings(**values), broker(broker_url()):
        yield


@pytest.fixture
def live(wired: None, worker: Any) -> Worker:
    return worker.get()


@pytest.fixture
def maya(wired: None) -> User:
    tenant = TenantFactory(slug="acme-int", name="Acme", tier=SubscriptionTier.BUSINESS)
    demo_marketing_seed(tenants={"acme": tenant}, today=dt.date.today(), progress=lambda line: None)
    user = UserFactory(tenant=tenant, username="maya")
    phone_number_add(user=user, number="+14155550101", verified=True, primary=True)
    return user


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


def inbound(body: str, *, sid: str, sender: str = "+14155550101", **extra: str) -> dict[str, str]:
    return {
        "From": f"whatsapp:{sender}",
        "To": f"whatsapp:{OUR_NUMBER}",
        "Body": body,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "NumMedia": "0",
        "ProfileName": "Maya",
        **extra,
    }


def post_signed(client: Client, path: str, params: dict[str, str]) -> Any:
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=sign(PUBLIC + path, params))
