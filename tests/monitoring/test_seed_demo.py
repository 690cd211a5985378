from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.http import HttpRequest
from django.utils import timezone

from accounts import roles
from accounts.models import SubscriptionTier, Tenant, User, UserPhoneNumber
from accounts.services import phone_number_lookup
from agents.models import AgentRun
from channels_app.events import Event, EventKind
from channels_app.models import Channel, Conversation, Message
from hitl.models import Approval
from hitl.selectors import approvals_awaiting

pytestmark = pytest.mark.django_db

STAFF = {
    "admin": ("acme", roles.SUPER_ADMIN),
    "support": ("acme", roles.SUPPORT_ADMIN),
    "compliance": ("acme", roles.COMPLIANCE_OFFICER),
    "readonly": ("acme", roles.READ_ONLY_ADMIN),
    "manager": ("acme", roles.MARKETING_MANAGER),
    "director": ("acme", roles.DIRECTOR_MARKETING),
    "cfo": ("acme", roles.CFO),
    "globex_admin": ("globex", roles.SUPER_ADMIN),
}
END_USERS = {
    "maya": ("acme", "+14155550101"),
    "leo": ("acme", "+14155550102"),
    "ana": ("globex", "+442079460958"),
}
EVERYONE = [*STAFF, *END_USERS]
DEFAULT_PASSWORD = "engarde-demo"


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo", verbosity=0)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Tenant,
            User,
            UserPhoneNumber,
            Conversation,
            Message,
            Event,
            AgentRun,
            LogEntry,
            Approval,
        )
    }


def test_tenants_follow_the_contract(seeded: None) -> None:
    acme = Tenant.objects.get(slug="acme")
    globex = Tenant.objects.get(slug="globex")
    assert acme.name == "Acme Corp"
    assert acme.tier == SubscriptionTier.BUSINESS
    assert globex.name == "Globex"
    assert globex.tier != acme.tier


@pytest.mark.parametrize("username", list(STAFF))
def test_staff_are_tenant_admins_with_their_role_not_superusers(
    seeded: None, username: str
) -> None:
    tenant, role = STAFF[username]
    user = User.objects.select_related("tenant").get(username=username)
    assert user.tenant.slug == tenant
    assert user.roles == [role]
    assert user.is_staff
    assert not user.is_superuser


@pytest.mark.parametrize("username", list(END_USERS))
def test_end_users_are_members_found_by_their_whatsapp_number(seeded: None, username: str) -> None:
    tenant, number = END_USERS[username]
    for raw in (number, f"whatsapp:{number}"):
        phone = phone_number_lookup(raw)
        assert phone is not None, raw
        assert phone.user.username == username
        assert phone.user.tenant.slug == tenant
        assert phone.verified
        assert phone.primary
    user = User.objects.get(username=username)
    assert user.roles == [roles.MEMBER]
    assert not user.is_staff
    assert not user.is_superuser


def test_users_have_realistic_emails_and_time_zones(seeded: None) -> None:
    for user in User.objects.filter(username__in=EVERYONE).select_related("tenant"):
        assert re.fullmatch(rf"[a-z.]+@{user.tenant.slug}\.example", user.email), user.email
        assert "/" in user.time_zone, user.time_zone


@pytest.mark.parametrize("username", EVERYONE)
def test_every_demo_user_logs_in_with_the_default_password(seeded: None, username: str) -> None:
    assert authenticate(HttpRequest(), username=username, password=DEFAULT_PASSWORD) is not None
    assert authenticate(HttpRequest(), username=username, password="not-the-demo-password") is None


def test_demo_password_comes_from_settings(settings: Any) -> None:
    settings.DEMO_PASSWORD = "another-demo-secret"
    call_command("seed_demo", verbosity=0)
    for username in EVERYONE:
        assert (
            authenticate(HttpRequest(), username=username, password="another-demo-secret")
            is not None
        )
        assert authenticate(HttpRequest(), username=username, password=DEFAULT_PASSWORD) is None


def test_each_end_user_has_three_weeks_of_conversations_on_every_channel(seeded: None) -> None:
    now = timezone.now()
    for username in END_USERS:
        conversations = Conversation.objects.filter(user__username=username)
        assert set(conversations.values_list("channel", flat=True)) == set(Channel.values)
        span = conversations.aggregate(first=Min("started_at"), last=Max("last_activity_at"))
        assert now - span["first"] >= timedelta(days=21), username
        assert span["last"] <= now
    assert 200 <= Message.objects.count() <= 1000


def test_conversations_agree_with_their_messages(seeded: None) -> None:
    conversations = Conversation.objects.annotate(
        n=Count("messages"), first=Min("messages__created_at"), last=Max("messages__created_at")
    )
    for conversation in conversations:
        assert conversation.message_count == conversation.n
        assert conversation.started_at == conversation.first
        assert conversation.last_activity_at == conversation.last
        assert conversation.tenant_id == conversation.user.tenant_id


def test_history_varies_like_real_traffic(seeded: None) -> None:
    def values(model: type, field: str) -> set[object]:
        return set(model.objects.values_list(field, flat=True))

    assert values(Message, "direction") == set(Message.Direction.values)
    assert values(Message, "sender_kind") == set(Message.SenderKind.values)
    assert {"received", "queued", "delivered", "read", "failed"} <= values(
        Message, "delivery_status"
    )
    assert {"paid_ads_optimization", "seo_optimization", "content_generation"} <= values(
        Message, "agent_type"
    )
    assert "audience_intelligence" in values(Message, "agent_type")
    assert {"active", "waiting", "closed"} <= values(Conversation, "status")
    assert {"positive", "neutral", "negative"} <= values(Conversation, "sentiment")
    assert len(values(Conversation, "priority")) >= 3
    agent_messages = Message.objects.filter(sender_kind=Message.SenderKind.AGENT)
    assert not agent_messages.filter(confidence=None).exists()
    assert agent_messages.filter(confidence__lt=0.6).exists()
    # Replies answer the user; the morning briefs (personal agent) answer nobody.
    replies = agent_messages.exclude(agent_type="personal_agent_core")
    assert not replies.filter(response_time_ms=None).exists()
    assert len(set(replies.values_list("response_time_ms", flat=True))) > 50


def test_message_lifecycle_events_are_recorded_with_timings(seeded: None) -> None:
    kinds = set(Event.objects.values_list("kind", flat=True))
    assert {
        EventKind.MESSAGE_RECEIVED,
        EventKind.AGENT_ROUTED,
        EventKind.REPLY_SENT,
        EventKind.REPLY_HELD,
        EventKind.TURN_FAILED,
    } <= kinds
    assert Event.objects.filter(kind=EventKind.TURN_FAILED).count() >= 3
    timed = Event.objects.filter(
        kind__in=[EventKind.MESSAGE_RECEIVED, EventKind.REPLY_SENT, EventKind.REPLY_HELD]
    )
    assert not timed.filter(duration_ms__isnull=True).exists()
    # Every inbound message was received exactly once.
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND).count()
    assert Event.objects.filter(kind=EventKind.MESSAGE_RECEIVED).count() == inbound


def test_whatsapp_messages_carry_twilio_shaped_provider_ids(seeded: None) -> None:
    sent = Message.objects.filter(channel=Channel.WHATSAPP).exclude(
        delivery_status=Message.DeliveryStatus.QUEUED
    )
    assert sent.exists()
    for provider_id in sent.values_list("provider_id", flat=True):
        assert re.fullmatch(r"SM[0-9a-f]{32}", provider_id), provider_id
    assert not Message.objects.exclude(channel=Channel.WHATSAPP).exclude(provider_id=None).exists()


def test_metadata_event_data_and_str_hold_no_pii(seeded: None) -> None:
    secrets = [number for _, number in END_USERS.values()]
    secrets += [number.lstrip("+") for number in secrets]
    secrets += [user.email for user in User.objects.all()]
    secrets += [body for body in Message.objects.values_list("body", flat=True) if len(body) >= 12]
    texts = [json.dumps(m) for m in Message.objects.values_list("metadata", flat=True)]
    texts += [json.dumps(d) for d in Event.objects.values_list("data", flat=True)]
    texts += [
        str(obj)
        for model in (Tenant, User, UserPhoneNumber, Conversation, Message, Event)
        for obj in model.objects.all()
    ]
    haystack = "\n".join(texts)
    assert [secret for secret in secrets if secret in haystack] == []


def test_second_run_changes_nothing(seeded: None) -> None:
    before = counts()
    hashes = dict(User.objects.values_list("username", "password"))
    provider_ids = set(Message.objects.values_list("provider_id", flat=True))

    call_command("seed_demo", verbosity=0)

    assert counts() == before
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert set(Message.objects.values_list("provider_id", flat=True)) == provider_ids


def test_rerun_puts_back_what_the_demo_relies_on(seeded: None) -> None:
    admin = User.objects.get(username="admin")
    admin.set_password("changed-in-the-console")
    admin.is_superuser = True
    admin.save()
    admin.groups.clear()
    maya_phone = UserPhoneNumber.objects.get(user__username="maya")
    maya_phone.user = User.objects.get(username="leo")
    maya_phone.primary = False
    maya_phone.verified = False
    maya_phone.save()

    call_command("seed_demo", verbosity=0)

    admin.refresh_from_db()
    assert admin.roles == [roles.SUPER_ADMIN]
    assert not admin.is_superuser
    assert authenticate(HttpRequest(), username="admin", password=DEFAULT_PASSWORD) is not None
    phone = phone_number_lookup("+14155550101")
    assert phone is not None
    assert (phone.user.username, phone.primary, phone.verified) == ("maya", True, True)
    assert UserPhoneNumber.objects.filter(user__username="leo", primary=True).count() == 1


def test_progress_and_summary_are_printed() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "Tenants ... ok" in text
    assert "Conversations for maya: 28/28 days" in text
    assert re.search(r"Demo data ready.*2 tenants, 11 users, 3 phone numbers", text)

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "Conversations for maya ... ok (0 created" in again.getvalue()


@pytest.mark.parametrize("options", [{"verbosity": 0}, {"quiet": True}])
def test_quiet_runs_print_nothing(options: dict[str, object]) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    assert out.getvalue() == ""


def test_the_approval_queue_has_work_at_every_risk_level(seeded: None) -> None:
    acme = Tenant.objects.get(slug="acme")
    open_ = Approval.objects.for_tenant(acme).filter(status="pending")
    assert set(open_.values_list("risk_level", flat=True)) >= {"medium", "critical"}
    assert set(open_.values_list("action_type", flat=True)) >= {"budget_increase", "data_export"}
    # The PRD's budget workflow puts the medium increase before the marketing manager.
    manager = User.objects.get(username="manager")
    assert approvals_awaiting(manager).filter(workflow__name="Standard Budget Approval").exists()
    decided = Approval.objects.for_tenant(acme).exclude(status="pending")
    assert set(decided.values_list("status", flat=True)) >= {"approved", "rejected"}
    # globex has no marketing manager: its super admin decides instead.
    globex_admin = User.objects.get(username="globex_admin")
    assert approvals_awaiting(globex_admin).exists()
