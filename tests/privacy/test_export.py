"""A person's data export (GDPR art. 15/20): their own, from the API, and one staff ask for on the
users page, built by the Celery task and downloaded from the data requests page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import COMPLIANCE_OFFICER, READ_ONLY_ADMIN, SUPPORT_ADMIN
from channels_app.models import Conversation
from engarde.celery import app as celery_app
from privacy.export import personal_data_export
from privacy.models import AdminAccessLog, DataRequest
from privacy.registry import personal_data_entries
from tests.conftest import TenantPeople
from tests.factories import (
    MessageFactory,
    StaffFactory,
    person_with_data_everywhere,
)

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/v1/users/me/export-data"
USERS_URL = "/admin/accounts/user/"
REQUESTS_URL = "/admin/privacy/datarequest/"
PHONE = "+14155550177"
WORDS = "periwinkle xylophone marmalade"
OTHER_WORDS = "tangerine accordion quicksilver"


@pytest.fixture
def zephyrine(people: TenantPeople) -> User:
    return person_with_data_everywhere(
        tenant=people.tenant,
        username="zephyrine_q",
        phone=PHONE,
        words=WORDS,
        approver=people.owner,
        first_name="Zephyrine",
        last_name="Quillbottom",
    )


@pytest.fixture
def strangers(people: TenantPeople) -> list[User]:
    """Someone else in the same tenant, and someone in another tenant, with data of their own."""
    return [
        person_with_data_everywhere(
            tenant=tenant,
            username=username,
            phone=phone,
            words=OTHER_WORDS,
            approver=approver,
        )
        for tenant, username, phone, approver in (
            (people.tenant, "neighbour", "+14155550178", people.owner),
            (people.other_tenant, "foreigner", "+442079460959", people.outsider),
        )
    ]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def exported(response: Any) -> dict[str, Any]:
    return json.loads(response.content)


# The person's own export


def test_the_export_is_a_dated_json_attachment_with_every_registered_section(
    zephyrine: User,
) -> None:
    response = api(zephyrine).get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    today = timezone.now().strftime("%Y%m%d")
    assert response["Content-Disposition"] == (
        f'attachment; filename="engarde_data_export_{zephyrine.pk}_{today}.json"'
    )
    document = exported(response)
    assert document["user_id"] == zephyrine.pk
    sections = document["sections"]
    assert list(sections) == [entry.section for entry in personal_data_entries()]
    # Every section holds the person's rows (the fixture plants one of each kind at least),
    # but for a member of staff's own work, which this person (no staff) has none of.
    assert [name for name, rows in sections.items() if not rows] == [
        "approvals_decided",
        "approval_votes",
        "approval_history",
    ]


def test_the_export_holds_the_person_s_messages_number_and_email_in_the_clear(
    zephyrine: User,
) -> None:
    sections = exported(api(zephyrine).get(EXPORT_URL))["sections"]

    assert sections["profile"][0]["email"] == "zephyrine_q.inbox@example.org"
    assert sections["profile"][0]["last_name"] == "Quillbottom"
    assert [p["phone_number"] for p in sections["phone_numbers"]] == [PHONE]
    conversations = sections["conversations"]
    assert sorted(c["channel"] for c in conversations) == ["chat", "email", "whatsapp"]
    bodies = [m["body"] for c in conversations for m in c["messages"]]
    assert f"{WORDS} asked on whatsapp" in bodies
    assert f"{WORDS} asked on chat" in bodies
    assert all(len(c["messages"]) == 2 for c in conversations)
    assert sections["email_preferences"][0]["email"] == "zephyrine_q.briefs@example.org"
    assert sections["email_sends"][0]["to_email"] == "zephyrine_q.inbox@example.org"
    assert sections["approvals_requested"][0]["title"] == f"Raise the budget, as {WORDS} asked"
    assert {run["agent_type"] for run in sections["agent_runs"]} == {
        "paid_ads_optimization",
        "seo_optimization",
        "content_generation",
    }
    assert sections["channel_consents"][0]["channel"] == "whatsapp"
    assert sections["consent_history"][0]["purpose"] == "briefs"
    assert len(sections["bookmarks"]) == 1


def test_the_export_holds_nobody_else_s_data(
    zephyrine: User, strangers: list[User], people: TenantPeople
) -> None:
    response = api(zephyrine).get(EXPORT_URL)
    text = response.content.decode()

    assert WORDS in text
    assert OTHER_WORDS not in text
    for stranger in strangers:
        assert stranger.username not in text
        assert stranger.email not in text
    assert "+14155550178" not in text and "+442079460959" not in text
    # The approver who voted on the person's approval is not named either.
    assert people.owner.username not in text


def test_an_anonymous_call_is_refused() -> None:
    response = APIClient().get(EXPORT_URL)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_the_person_s_export_is_recorded_without_keeping_a_copy(zephyrine: User) -> None:
    api(zephyrine).get(EXPORT_URL)
    recorded = DataRequest.objects.filter(subject=zephyrine, requested_by=zephyrine).get()
    assert recorded.kind == DataRequest.Kind.EXPORT
    assert recorded.status == DataRequest.Status.DONE
    assert recorded.payload == ""


def test_the_export_reads_a_fixed_number_of_queries_however_many_messages(
    zephyrine: User,
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            personal_data_export(user=zephyrine)
        return len(captured)

    few = queries()
    conversation = Conversation.objects.filter(user=zephyrine).first()
    MessageFactory.create_batch(60, conversation=conversation)
    assert queries() == few


# Staff ask for an export on the users page


@pytest.fixture
def eager(django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """Celery runs enqueued tasks inline (the real task); `with eager():` runs what the block
    enqueued on commit, as its transaction commits."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    celery_app.conf.task_always_eager = before


def staff_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_action(client: Client, action: str, *users: User, **extra: str) -> Any:
    return client.post(
        USERS_URL,
        {"action": action, "_selected_action": [u.pk for u in users], "index": "0", **extra},
    )


@pytest.fixture
def compliance(people: TenantPeople) -> User:
    return StaffFactory(tenant=people.tenant, username="compliance", roles=[COMPLIANCE_OFFICER])


def test_a_compliance_officer_exports_a_person_through_the_worker_and_downloads_it(
    zephyrine: User, compliance: User, eager: Any
) -> None:
    client = staff_client(compliance)
    with eager():
        response = run_action(client, "export_personal_data", zephyrine)
    assert response.status_code == 302

    data_request = DataRequest.objects.filter(requested_by=compliance).get()
    assert data_request.subject == zephyrine
    assert data_request.kind == DataRequest.Kind.EXPORT
    assert data_request.status == DataRequest.Status.DONE
    assert data_request.progress == 100
    assert data_request.started_at is not None and data_request.finished_at is not None
    assert data_request.expires_at is not None
    ttl = data_request.expires_at - data_request.finished_at
    assert ttl == timedelta(hours=72)
    assert WORDS in data_request.payload
    exported_log = AdminAccessLog.objects.get(action=AdminAccessLog.Action.EXPORT_DATA)
    assert (exported_log.admin_user, exported_log.resource_id) == (compliance, str(zephyrine.pk))
    assert exported_log.tenant_id == zephyrine.tenant_id

    listing = client.get(REQUESTS_URL)
    assert listing.status_code == 200
    download_url = f"{REQUESTS_URL}{data_request.pk}/download/"
    assert download_url in listing.content.decode()

    download = client.get(download_url)
    assert download.status_code == 200
    day = data_request.finished_at.strftime("%Y%m%d")
    assert download["Content-Disposition"] == (
        f'attachment; filename="engarde_data_export_{zephyrine.pk}_{day}.json"'
    )
    sections = json.loads(download.content)["sections"]
    assert sections["phone_numbers"][0]["phone_number"] == PHONE
    logged = AdminAccessLog.objects.filter(action=AdminAccessLog.Action.DOWNLOAD_EXPORT)
    assert [(row.admin_user, row.resource_id) for row in logged] == [
        (compliance, str(data_request.pk))
    ]


def test_an_expired_export_answers_410_and_logs_no_download(
    zephyrine: User, compliance: User, eager: Any
) -> None:
    client = staff_client(compliance)
    with eager():
        run_action(client, "export_personal_data", zephyrine)
    data_request = DataRequest.objects.get(requested_by=compliance)
    assert data_request.status == DataRequest.Status.DONE
    DataRequest.objects.filter(pk=data_request.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = client.get(f"{REQUESTS_URL}{data_request.pk}/download/")

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not AdminAccessLog.objects.filter(action=AdminAccessLog.Action.DOWNLOAD_EXPORT).exists()


def test_an_unfinished_export_answers_409(zephyrine: User, compliance: User) -> None:
    pending = DataRequest.objects.create(
        tenant=zephyrine.tenant, subject=zephyrine, kind=DataRequest.Kind.EXPORT
    )
    response = staff_client(compliance).get(f"{REQUESTS_URL}{pending.pk}/download/")
    assert response.status_code == 409
    assert "pending (0%)" in response.content.decode()


@pytest.mark.parametrize("role", [SUPPORT_ADMIN, READ_ONLY_ADMIN])
def test_roles_without_export_data_neither_see_nor_run_the_actions(
    zephyrine: User, people: TenantPeople, role: str, eager: Any
) -> None:
    client = staff_client(StaffFactory(tenant=people.tenant, roles=[role]))
    page = client.get(USERS_URL).content.decode()
    assert "export_personal_data" not in page
    assert "erase_personal_data" not in page

    with eager():
        run_action(client, "export_personal_data", zephyrine)
        run_action(
            client, "erase_personal_data", zephyrine, post="yes", reason="Asked by ticket 4711"
        )

    assert not DataRequest.objects.filter(requested_by__groups__name=role).exists()
    assert not AdminAccessLog.objects.filter(
        action__in=[AdminAccessLog.Action.EXPORT_DATA, AdminAccessLog.Action.ERASE_DATA]
    ).exists()
    assert User.objects.get(pk=zephyrine.pk).username == "zephyrine_q"
    assert client.get(REQUESTS_URL).status_code == 403


def test_the_actions_are_offered_to_the_roles_that_may_export(
    people: TenantPeople, compliance: User
) -> None:
    for user in (compliance, people.owner):
        page = staff_client(user).get(USERS_URL).content.decode()
        assert 'value="export_personal_data"' in page
        assert 'value="erase_personal_data"' in page


def test_staff_of_another_tenant_can_neither_export_nor_download(
    zephyrine: User, compliance: User, people: TenantPeople, eager: Any
) -> None:
    outsider = staff_client(people.outsider)
    with eager():
        run_action(outsider, "export_personal_data", zephyrine)
    assert not DataRequest.objects.filter(requested_by=people.outsider).exists()

    with eager():
        run_action(staff_client(compliance), "export_personal_data", zephyrine)
    data_request = DataRequest.objects.get(requested_by=compliance)
    assert outsider.get(f"{REQUESTS_URL}{data_request.pk}/download/").status_code == 404
    assert "zephyrine_q" not in outsider.get(REQUESTS_URL).content.decode()
    assert not AdminAccessLog.objects.filter(admin_user=people.outsider).exists()
