from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections

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
def close_worker_thread_connections() -> Iterator[None]:
    """database_sync_to_async runs ORM calls in asgiref's one worker thread, whose database
    connection would outlive the test (CONN_MAX_AGE) and keep the test database from being
    dropped at the end of the run."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
