from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.roles import COMPLIANCE_OFFICER
from tests.conftest import TenantPeople
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_changes_are_recorded_with_pii_redacted(people: TenantPeople) -> None:
    user = UserFactory(tenant=people.tenant, email="first@acme.example")
    user.email = "second@acme.example"
    user.save()
    entry = LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["email"] == ["[redacted]", "[redacted]"]
    assert entry.additional_data == {"tenant_id": people.tenant.pk}
    assert "acme.example" not in str(entry.changes)


@pytest.mark.parametrize("who", ["superuser", "owner", "compliance"])
def test_entries_are_read_only_for_every_role(people: TenantPeople, who: str) -> None:
    UserFactory(tenant=people.tenant)
    entry = LogEntry.objects.filter(additional_data__tenant_id=people.tenant.pk).first()
    user = {
        "superuser": User.objects.create_superuser("root", password="x" * 12),
        "owner": people.owner,
        "compliance": StaffFactory(tenant=people.tenant, roles=[COMPLIANCE_OFFICER]),
    }[who]
    client = Client()
    client.force_login(user)

    change = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200  # they may read it...
    assert client.post(change, {"action": "2"}).status_code == 403  # ...not change it
    delete = reverse("admin:auditlog_logentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()
