from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections

from accounts.models import Tenant, User
from accounts.roles import SUPER_ADMIN, SUPPORT_ADMIN
from tests.factories import StaffFactory, TenantFactory

# The integration fixtures (a real worker, fake Twilio) serve tests/integration and tests/fault;
# the planted personal data serves the privacy and console tests.
pytest_plugins = ["tests.integration.fixtures", "tests.planted"]


@dataclass
class TenantPeople:
    """Per tenant: its owner (super_admin), a teammate (support_admin), and an outsider (the
    super_admin of another tenant). Every permission test checks all three."""

    tenant: Tenant
    owner: User
    teammate: User
    outsider: User
    other_tenant: Tenant


@pytest.fixture
def people(db: None) -> TenantPeople:
    tenant = TenantFactory(slug="acme", name="Acme")
    other = TenantFactory(slug="globex", name="Globex")
    return TenantPeople(
        tenant=tenant,
        owner=StaffFactory(tenant=tenant, username="owner", roles=[SUPER_ADMIN]),
        teammate=StaffFactory(tenant=tenant, username="teammate", roles=[SUPPORT_ADMIN]),
        outsider=StaffFactory(tenant=other, username="outsider", roles=[SUPER_ADMIN]),
        other_tenant=other,
    )


@pytest.fixture
def close_worker_thread_connections() -> Iterator[None]:
    """database_sync_to_async runs ORM calls in asgiref's one worker thread, whose database
    connection would outlive the test (CONN_MAX_AGE) and keep the test database from being
    dropped at the end of the run."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
