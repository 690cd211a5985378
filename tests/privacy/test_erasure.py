"""Erasure (GDPR art. 17): by the person (`DELETE /api/v1/users/me/delete-account`) or by a
compliance officer on the users page. Afterwards a dump of the database holds nothing of them,
the analytics read the same figures, and the account is dead on every way in (token, password,
session, their WhatsApp number)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from auditlog.models import LogEntry as AuditLogEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User, UserPhoneNumber
from accounts.roles import COMPLIANCE_OFFICER
from agents.models import AgentRun
from channels_app.events import Event
from channels_app.models import Conversation, EmailPreferences, EmailSend, Message, MessageToken
from channels_app.search_index import matching_message_ids, messages_index, search_query
from channels_app.tasks import process_turn_task
from channels_app.whatsapp.services import UNMAPPED_REPLY
from hitl.models import Approval, ApprovalHistory, ApprovalVote, Notification
from privacy.models import AdminAccessLog, DataRequest
from privacy.registry import ERASED
from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN, TEST_WHATSAPP_NUMBER, FakeTwilio
from tests.conftest import TenantPeople
from tests.factories import PASSWORD, StaffFactory, person_with_data_everywhere
from tests.privacy.test_no_plaintext_pii import leaks, pg_dump, phone_forms

pytestmark = pytest.mark.django_db

DELETE_URL = "/api/v1/users/me/delete-account"
ME_URL = "/api/v1/users/me"
USERS_URL = "/admin/accounts/user/"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
PUBLIC = "https://console.example.com"
CONFIRM = {"confirmation": "DELETE MY ACCOUNT"}
PHONE = "+14155550177"
WORDS = "periwinkle xylophone marmalade"
OTHER_WORDS = "tangerine accordion quicksilver"
USERNAME = "zephyrine_q"


@pytest.fixture
def zephyrine(people: TenantPeople) -> User:
    return person_with_data_everywhere(
        tenant=people.tenant,
        username=USERNAME,
        phone=PHONE,
        words=WORDS,
        approver=people.owner,
        first_name="Zephyrine",
        last_name="Quillbottom",
    )


@pytest.fixture
def neighbour(people: TenantPeople) -> User:
    """Someone else of the same tenant: their data must come through untouched."""
    return person_with_data_everywhere(
        tenant=people.tenant,
        username="neighbour",
        phone="+14155550178",
        words=OTHER_WORDS,
        approver=people.owner,
    )


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def analytics() -> dict[str, Any]:
    """What the dashboards count: conversations and messages per channel and agent, message
    timestamps and response times, agent runs, events, approvals and emails."""
    return {
        "conversations": Counter(Conversation.objects.values_list("channel", "current_agent_type")),
        "message_counts": sorted(Conversation.objects.values_list("id", "message_count")),
        "messages": Counter(
            Message.objects.values_list("channel", "agent_type", "direction", "sender_kind")
        ),
        "message_times": sorted(
            Message.objects.values_list("conversation_id", "created_at", "response_time_ms")
        ),
        "delivery": Counter(Message.objects.values_list("delivery_status", "error_code")),
        "runs": Counter(AgentRun.objects.values_list("agent_type", "status", "latency_ms")),
        "events": Counter(Event.objects.values_list("kind", "channel", "agent_type")),
        "approvals": Counter(Approval.objects.values_list("action_type", "status", "created_at")),
        "emails": Counter(EmailSend.objects.values_list("kind", "status", "created_at")),
    }


def secrets_of(user: User) -> list[str]:
    return [
        USERNAME,
        user.email,
        f"{USERNAME}.briefs@example.org",
        "Zephyrine",
        "Quillbottom",
        *phone_forms(PHONE),
        WORDS,
    ]


def found_in(dump: str, secrets: list[str]) -> list[str]:
    """The dump's lines (a table's COPY header and its rows) that hold a leaked secret."""
    return [line[:300] for line in dump.splitlines() if any(s in line for s in secrets)]


# Through the API, as the person


@pytest.mark.django_db(transaction=True)
def test_after_erasure_a_database_dump_holds_nothing_of_the_person_and_analytics_agree(
    zephyrine: User, neighbour: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"pg_dump needs PostgreSQL; this database is {connection.vendor}.")
    secrets = secrets_of(zephyrine)
    # Positive control: before, the dump holds each of them somewhere in the clear (the user
    # row, the audit log's entries and actor email, approval titles and notes, message metadata,
    # a provider's error message), so the scan below can see a leak.
    assert set(leaks(pg_dump(), secrets)) == set(secrets) - {f"{USERNAME}.briefs@example.org"}
    before = analytics()

    response = api(zephyrine).delete(DELETE_URL, CONFIRM, format="json")

    assert response.status_code == 200
    assert response.json()["erased"] is True
    dump = pg_dump()
    assert leaks(dump, secrets) == [], found_in(dump, leaks(dump, secrets))
    assert analytics() == before
    # The same kinds of data of someone else are all still there.
    assert set(leaks(dump, [neighbour.username, neighbour.email, OTHER_WORDS])) == {
        neighbour.username,
        neighbour.email,
        OTHER_WORDS,
    }


def test_erasure_anonymises_every_kind_of_data_and_keeps_the_rows(
    zephyrine: User, neighbour: User, people: TenantPeople
) -> None:
    messages = Message.objects.filter(conversation__user=zephyrine)
    counts = {"messages": messages.count(), "approvals": 2, "sends": 1, "runs": 3}

    assert api(zephyrine).delete(DELETE_URL, CONFIRM, format="json").status_code == 200

    user = User.objects.get(pk=zephyrine.pk)
    assert user.username.startswith("erased-") and len(user.username) == len("erased-") + 16
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert not user.has_usable_password()
    assert (user.is_active, user.is_deleted, user.deleted_at is not None) == (False, True, True)
    assert list(user.groups.all()) == []
    assert not UserPhoneNumber.objects.filter(user=user).exists()
    assert not EmailPreferences.objects.filter(user=user).exists()

    assert messages.count() == counts["messages"]
    assert set(messages.values_list("body", flat=True)) == {ERASED}
    assert set(messages.values_list("error_message", flat=True)) == {""}
    metadata = list(messages.values_list("metadata", flat=True))
    assert not any("media" in m for m in metadata)
    assert {"intent": "performance"} in [m.get("understood") for m in metadata]

    approval = Approval.objects.get(requested_by=user)
    assert approval.title == ERASED and approval.notes == ""
    assert approval.action_data == {
        "campaign_id": 7,
        "new_daily_budget": ERASED,
        "description": ERASED,
    }
    assert Approval.objects.filter(conversation__user=user).count() == counts["approvals"]
    assert ApprovalVote.objects.get(approval=approval).notes == ""
    history = ApprovalHistory.objects.get(approval=approval)
    assert (history.notes, history.data) == ("", {"said": ERASED})
    assert Notification.objects.get(approval=approval).title == f"Approval #{approval.pk}"
    assert not Notification.objects.filter(recipient=user).exists()

    send = EmailSend.objects.get(user=user)
    assert (send.to_email, send.to_hash, send.subject, send.error_message) == ("", "", "", "")
    assert AgentRun.objects.filter(conversation__user=user).count() == counts["runs"]

    audited = AuditLogEntry.objects.filter(object_repr__contains=USERNAME)
    assert not audited.exists()
    assert not AuditLogEntry.objects.filter(actor=user).exclude(actor_email=None).exists()
    assert AdminLogEntry.objects.get(object_id=str(user.pk)).object_repr == ERASED
    assert DataRequest.objects.get(subject=user, requested_by=people.owner).payload == ""

    # Their neighbour's rows of every kind are untouched.
    theirs = Message.objects.filter(conversation__user=neighbour)
    assert f"{OTHER_WORDS} asked on chat" in theirs.values_list("body", flat=True)
    assert UserPhoneNumber.objects.filter(user=neighbour).exists()
    assert Approval.objects.get(requested_by=neighbour).title.endswith(f"{OTHER_WORDS} asked")
    assert AuditLogEntry.objects.filter(object_repr__contains="neighbour").exists()
    assert DataRequest.objects.get(subject=neighbour, requested_by=people.owner).payload != ""


def test_erasure_takes_the_messages_out_of_the_search_index(zephyrine: User) -> None:
    messages = Message.objects.filter(conversation__user=zephyrine).select_related("conversation")
    messages_index(messages)
    tenant_id = zephyrine.tenant_id
    for text in ("xylophone", "periwinkle marmalade"):
        assert matching_message_ids(tenant_id=tenant_id, query=search_query(text)).exists()

    assert api(zephyrine).delete(DELETE_URL, CONFIRM, format="json").status_code == 200

    for text in ("xylophone", "periwinkle marmalade"):
        assert not matching_message_ids(tenant_id=tenant_id, query=search_query(text)).exists()
    assert not MessageToken.objects.filter(message__in=messages).exists()


def test_erasure_is_recorded_as_a_data_request(zephyrine: User) -> None:
    response = api(zephyrine).delete(DELETE_URL, CONFIRM, format="json")

    recorded = DataRequest.objects.get(kind=DataRequest.Kind.ERASURE)
    assert response.json()["data_request_id"] == recorded.pk
    assert (recorded.subject_id, recorded.requested_by_id) == (zephyrine.pk, zephyrine.pk)
    assert recorded.status == DataRequest.Status.DONE
    assert recorded.finished_at is not None


def test_after_erasure_the_account_signs_in_no_way(zephyrine: User) -> None:
    token = Token.objects.get(user=zephyrine).key
    by_token = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    by_session = Client()
    by_session.force_login(zephyrine)
    assert by_token.get(ME_URL).status_code == 200
    assert by_session.get(ME_URL).status_code == 200

    assert by_token.delete(DELETE_URL, CONFIRM, format="json").status_code == 200

    assert by_token.get(ME_URL).status_code == 401
    assert by_session.get(ME_URL).status_code == 401
    assert not Token.objects.filter(user=zephyrine).exists()
    sessions = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(zephyrine.pk) not in sessions
    erased = User.objects.get(pk=zephyrine.pk).username
    for username in (USERNAME, erased):
        answer = APIClient().post(
            "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
        )
        assert answer.status_code == 400
        assert not Client().login(request=HttpRequest(), username=username, password=PASSWORD)


def test_erasure_through_a_session_signs_that_session_out(zephyrine: User) -> None:
    client = Client()
    client.force_login(zephyrine)
    response = client.delete(DELETE_URL, CONFIRM, content_type="application/json")
    assert response.status_code == 200
    assert client.get(ME_URL).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"confirmation": "delete my account"},
        {"confirmation": "DELETE MY ACCOUNT "},
        {"confirmation": ""},
        {"confirm": "DELETE MY ACCOUNT"},
        {},
    ],
)
def test_anything_but_the_exact_confirmation_is_400_naming_it_and_changes_nothing(
    zephyrine: User, body: dict[str, str]
) -> None:
    before = analytics()

    response = api(zephyrine).delete(DELETE_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid"
    assert list(error["fields"]) == ["confirmation"]
    user = User.objects.get(pk=zephyrine.pk)
    assert (user.username, user.email, user.is_active) == (USERNAME, zephyrine.email, True)
    assert UserPhoneNumber.objects.filter(user=user).exists()
    assert Token.objects.filter(user=user).exists()
    bodies = Message.objects.filter(conversation__user=user).values_list("body", flat=True)
    assert f"{WORDS} asked on chat" in bodies
    assert not DataRequest.objects.filter(kind=DataRequest.Kind.ERASURE).exists()
    assert analytics() == before


def test_an_anonymous_delete_is_refused() -> None:
    assert APIClient().delete(DELETE_URL, CONFIRM, format="json").status_code == 401


# The person's WhatsApp number, after


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with (
        FakeTwilio() as fake,
        override_settings(
            **fake.settings(),
            PUBLIC_BASE_URL=PUBLIC,
            TWILIO_RETRY_BACKOFF_SECONDS=0.01,
            ENABLE_WHATSAPP=True,
        ),
    ):
        redis = cache._cache.get_client()  # type: ignore[attr-defined]
        # The once-a-day reply to unknown numbers is remembered in the cache, which outlives
        # a test.
        keys = [key for key in redis.keys("*") if b"whatsapp:" in key]
        if keys:
            redis.delete(*keys)
        yield fake


def whatsapp_from(number: str, body: str, sid: str, capture: Any) -> Any:
    from twilio.request_validator import RequestValidator

    params = {
        "From": f"whatsapp:{number}",
        "To": f"whatsapp:{TEST_WHATSAPP_NUMBER}",
        "Body": body,
        "MessageSid": sid,
        "NumMedia": "0",
    }
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC + WEBHOOK, params)
    with capture(execute=True):
        return Client().post(
            WEBHOOK,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )


def test_after_erasure_their_whatsapp_number_is_unknown(
    zephyrine: User,
    twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    enqueued: list[int] = []
    monkeypatch.setattr(process_turn_task, "delay", enqueued.append)
    # Before: the number is theirs, and what it sends is stored in their conversation.
    stored = Message.objects.count()
    answer = whatsapp_from(PHONE, "before", "SM" + "1" * 32, django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    assert Message.objects.count() == stored + 1 and len(enqueued) == 1

    assert api(zephyrine).delete(DELETE_URL, CONFIRM, format="json").status_code == 200
    stored = Message.objects.count()
    answer = whatsapp_from(PHONE, "after", "SM" + "2" * 32, django_capture_on_commit_callbacks)

    assert answer.status_code == 200
    assert Message.objects.count() == stored
    assert len(enqueued) == 1
    assert [m.body for m in twilio.messages if m.to == f"whatsapp:{PHONE}"] == [UNMAPPED_REPLY]


# From the console


@pytest.fixture
def compliance(people: TenantPeople) -> User:
    return StaffFactory(tenant=people.tenant, username="compliance", roles=[COMPLIANCE_OFFICER])


def staff_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def erase_action(client: Client, *users: User, **extra: str) -> Any:
    data = {"action": "erase_personal_data", "_selected_action": [u.pk for u in users], **extra}
    if "post" not in extra:
        data["index"] = "0"  # chosen from the list's action bar
    return client.post(USERS_URL, data)


def test_a_compliance_officer_erases_a_person_after_a_confirmation_page_with_a_reason(
    zephyrine: User, compliance: User
) -> None:
    client = staff_client(compliance)

    page = erase_action(client, zephyrine)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Erase personal data" in text and USERNAME in text and 'name="reason"' in text
    assert User.objects.get(pk=zephyrine.pk).username == USERNAME

    without_reason = erase_action(client, zephyrine, post="yes", reason=" ")
    assert without_reason.status_code == 200
    assert "This field is required" in without_reason.content.decode()
    assert User.objects.get(pk=zephyrine.pk).username == USERNAME

    reason = "Asked by email on 2026-12-01, ticket GDPR-4711"
    done = erase_action(client, zephyrine, post="yes", reason=reason)

    assert done.status_code == 302
    user = User.objects.get(pk=zephyrine.pk)
    assert user.is_deleted and user.username.startswith("erased-")
    recorded = DataRequest.objects.get(kind=DataRequest.Kind.ERASURE)
    assert (recorded.subject, recorded.requested_by, recorded.reason) == (user, compliance, reason)
    logged = AdminAccessLog.objects.get(action=AdminAccessLog.Action.ERASE_DATA)
    assert (logged.admin_user, logged.resource_id, logged.justification) == (
        compliance,
        str(user.pk),
        reason,
    )
    assert logged.tenant_id == user.tenant_id
    listing = client.get(USERS_URL, follow=True).content.decode()
    assert user.username in listing and USERNAME not in listing


def test_the_action_never_erases_the_officer_themselves_or_a_superuser(
    zephyrine: User, compliance: User, people: TenantPeople
) -> None:
    superuser = StaffFactory(tenant=people.tenant, username="root", is_superuser=True)
    client = staff_client(compliance)
    for refused in (compliance, superuser):
        response = erase_action(client, zephyrine, refused, post="yes", reason="Asked by ticket 1")
        assert response.status_code == 302
        assert User.objects.get(pk=refused.pk).username == refused.username
    # Nobody of a refused selection is erased, the others included.
    assert User.objects.get(pk=zephyrine.pk).username == USERNAME
    assert not DataRequest.objects.filter(kind=DataRequest.Kind.ERASURE).exists()
    messages = [str(m) for m in client.get(USERS_URL).context["messages"]]
    assert any("your own account" in m for m in messages)
    assert any("platform superuser" in m for m in messages)
