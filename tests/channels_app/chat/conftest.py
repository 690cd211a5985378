from __future__ import annotations

import pytest

from accounts.models import Tenant, User
from channels_app.tasks import process_turn_task
from tests.channels_app.chat.helpers import demo_tenant, person
from tests.factories import TenantFactory


@pytest.fixture
def acme(transactional_db: None) -> Tenant:
    return demo_tenant()


@pytest.fixture
def maya(acme: Tenant) -> User:
    return person(acme, "maya")


@pytest.fixture
def leo(acme: Tenant) -> User:
    """maya's teammate: same tenant, not her conversations."""
    return person(acme, "leo")


@pytest.fixture
def ana(transactional_db: None) -> User:
    """Someone of another tenant."""
    return person(TenantFactory(slug="globex", name="Globex"), "ana")


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the messages whose turn was enqueued (on commit). The tests then run the real
    task in this process (`process_turn_task.apply`), where a worker would have."""
    calls: list[int] = []
    monkeypatch.setattr(process_turn_task, "delay", calls.append)
    return calls


@pytest.fixture(autouse=True)
def _close_worker_thread_connections(close_worker_thread_connections: None) -> None:
    """Every chat test: see tests/conftest.py."""
