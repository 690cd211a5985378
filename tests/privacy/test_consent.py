"""Consent: every way a person says yes or no (WhatsApp's STOP/START, the unsubscribe link and
one-click, their settings, an ESP's complaint) records who, what, when and how, keeps the
current state in step, and every channel honours it. Chat is user-initiated: it has no consent
of its own to honour (a reply only ever answers a message the person sent from the page)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from accounts.models import SubscriptionTier, User
from accounts.roles import COMPLIANCE_OFFICER, MARKETING_MANAGER, SUPER_ADMIN
from accounts.services import phone_number_add
from channels_app import transports
from channels_app.email.models import EmailPreferences
from channels_app.email.sending import brief_send_now, briefs_dispatch
from channels_app.email.services import preferences_update
from channels_app.models import Channel, Message
from channels_app.tasks import process_turn_task
from channels_app.whatsapp.services import START_REPLY, STOP_REPLY
from channels_app.whatsapp.transport import WhatsAppTransport
from privacy.consent import consent_record
from privacy.models import ChannelConsent, ConsentRecord
from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN, TEST_WHATSAPP_NUMBER, FakeTwilio
from tests.conftest import TenantPeople
from tests.email.conftest import Workspace, enable_agents, seed_marketing
from tests.email.test_tracking import HOOK_SETTINGS, post_sendgrid, sendgrid_event
from tests.factories import StaffFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC = "https://console.example.com"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
MAYA = "+14155550101"


def trail(user: User) -> list[tuple[str, str, bool, str]]:
    return [
        (r.channel, r.purpose, r.granted, r.source)
        for r in ConsentRecord.objects.filter(user=user).order_by("pk")
    ]


# WhatsApp


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    # The app's transport, pointed at this test's fake Twilio.
    previous = transports.transport_register(Channel.WHATSAPP, WhatsAppTransport())
    try:
        with (
            FakeTwilio() as fake,
            override_settings(
                **fake.settings(),
                PUBLIC_BASE_URL=PUBLIC,
                TWILIO_RETRY_BACKOFF_SECONDS=0.01,
                TWILIO_TEMPLATE_CONTENT_SID="",
                ENABLE_WHATSAPP=True,
            ),
        ):
            yield fake
    finally:
        transports.transport_register(Channel.WHATSAPP, previous)


@pytest.fixture(autouse=True)
def no_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    # The agents' turns are not what is tested here: enqueued, never run.
    monkeypatch.setattr(process_turn_task, "delay", lambda message_id: None)


@pytest.fixture
def maya(people: TenantPeople) -> User:
    user = UserFactory(tenant=people.tenant, username="maya")
    phone_number_add(user=user, number=MAYA, verified=True, primary=True)
    return user


def whatsapp(text: str, n: int, django_capture_on_commit_callbacks: Any) -> None:
    """Maya writes `text`, as Twilio posts it: form-encoded and signed."""
    params = {
        "From": f"whatsapp:{MAYA}",
        "To": f"whatsapp:{TEST_WHATSAPP_NUMBER}",
        "Body": text,
        "MessageSid": f"SM{n:032x}",
        "NumMedia": "0",
    }
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC + WEBHOOK, params)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            WEBHOOK,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )
    assert response.status_code == 200


def test_stop_then_start_records_both_and_flips_the_state(
    maya: User, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    whatsapp("STOP", 1, django_capture_on_commit_callbacks)
    assert ChannelConsent.is_opted_out(user_id=maya.pk, channel="whatsapp")
    whatsapp("stop", 2, django_capture_on_commit_callbacks)  # again: nothing new to record
    whatsapp("START", 3, django_capture_on_commit_callbacks)

    assert not ChannelConsent.is_opted_out(user_id=maya.pk, channel="whatsapp")
    assert trail(maya) == [
        ("whatsapp", "conversations", False, "whatsapp_keyword"),
        ("whatsapp", "conversations", True, "whatsapp_keyword"),
    ]
    stop, start = ConsentRecord.objects.filter(user=maya).order_by("pk")
    received = dict(Message.objects.filter(direction="inbound").values_list("body", "created_at"))
    assert (stop.recorded_at, start.recorded_at) == (received["STOP"], received["START"])
    assert [m.body for m in twilio.messages] == [STOP_REPLY, STOP_REPLY, START_REPLY]


def test_nothing_proactive_reaches_someone_who_sent_stop(
    people: TenantPeople, maya: User, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    whatsapp("How is my budget?", 1, django_capture_on_commit_callbacks)  # the window is open
    whatsapp("STOP", 2, django_capture_on_commit_callbacks)
    console = APIClient()
    console.force_authenticate(people.owner)

    refused = console.post(
        "/api/v1/channels/whatsapp/send", {"to": str(maya.pk), "message": "A new offer!"}
    )
    assert refused.status_code == 409 and refused.json()["error"] == "opted_out"
    assert [m.body for m in twilio.messages] == [STOP_REPLY]  # the confirmation only

    whatsapp("START", 3, django_capture_on_commit_callbacks)
    sent = console.post(
        "/api/v1/channels/whatsapp/send", {"to": str(maya.pk), "message": "Welcome back."}
    )
    assert sent.status_code == 201, sent.content
    assert [m.body for m in twilio.messages] == [STOP_REPLY, START_REPLY, "Welcome back."]


def test_a_first_start_is_recorded_once_and_changes_nothing(maya: User) -> None:
    at = timezone.now()
    kwargs: dict[str, Any] = {
        "user": maya,
        "channel": "whatsapp",
        "purpose": "conversations",
        "source": "whatsapp_keyword",
        "at": at,
    }
    assert consent_record(granted=True, **kwargs) is False  # no row already meant opted in
    assert consent_record(granted=True, **kwargs) is False
    assert trail(maya) == [("whatsapp", "conversations", True, "whatsapp_keyword")]
    assert consent_record(granted=False, **kwargs) is True
    with pytest.raises(ValueError, match="purpose"):
        consent_record(**{**kwargs, "purpose": "marketing"}, granted=True)
    assert len(trail(maya)) == 2


# Email briefs


@pytest.fixture
def workspace(db: None) -> Workspace:
    """As the email tests' own: a workspace with every agent on and two weeks of marketing
    data, a reader who subscribed from their settings, and an admin."""
    tenant = TenantFactory(slug="acme", name="Acme", tier=SubscriptionTier.BUSINESS)
    enable_agents(tenant)
    end = timezone.localdate() - timedelta(days=1)
    seed_marketing(tenant, end)
    reader = StaffFactory(
        tenant=tenant, username="carmen", email="carmen@acme.example", roles=[MARKETING_MANAGER]
    )
    preferences_update(user=reader, now=timezone.now(), enabled=True)
    admin = StaffFactory(tenant=tenant, username="alex", roles=[SUPER_ADMIN])
    mail.outbox = []
    return Workspace(tenant=tenant, reader=reader, admin=admin, end=end)


def link(kind: str) -> str:
    """The footer's link of the last email sent, as a path."""
    url = re.search(rf"{kind}: (\S+)", mail.outbox[-1].body)
    assert url is not None
    parts = urlsplit(url.group(1))
    return f"{parts.path}?{parts.query}"


def test_the_unsubscribe_link_records_one_refusal_and_no_brief_follows(
    workspace: Workspace,
) -> None:
    reader = workspace.reader
    # Subscribing (the fixture's first save) was the reader's own consent.
    assert trail(reader) == [("email", "briefs", True, "settings")]
    assert brief_send_now(user=reader, now=timezone.now()).status == "sent"
    client = Client()
    for _ in range(2):  # clicked twice: one change
        assert client.post(link("Unsubscribe")).status_code == 200

    assert trail(reader)[1:] == [("email", "briefs", False, "unsubscribe_link")]
    assert ChannelConsent.objects.get(user=reader, channel="email").opted_out
    mail.outbox = []
    assert briefs_dispatch(now=timezone.now() + timedelta(days=2)) == []
    assert brief_send_now(user=reader, now=timezone.now()).status == "skipped"
    assert mail.outbox == []


def test_one_click_and_the_settings_record_their_sources(
    workspace: Workspace,
) -> None:
    reader = workspace.reader
    brief_send_now(user=reader, now=timezone.now())
    one_click = mail.outbox[-1].extra_headers["List-Unsubscribe"].strip("<>")
    parts = urlsplit(one_click)
    response = Client().post(
        f"{parts.path}?{parts.query}",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.json()["changed"] is True
    # Back on from the preferences page (the person), then off by an admin through the API.
    client = Client()
    client.post(
        link("Email preferences"),
        {
            "enabled": "on",
            "delivery_time": "07:00",
            "time_zone": "UTC",
            "frequency": "daily",
            "sections": ["seo"],
            "min_priority": "medium",
            "digest_format": "full",
        },
    )
    assert EmailPreferences.objects.get(user=reader).enabled
    api = APIClient()
    api.force_authenticate(workspace.admin)
    off = api.put(
        f"/api/v1/channels/email/preferences/{reader.pk}", {"enabled": False}, format="json"
    )
    assert off.status_code == 200, off.content
    # Saving other preferences is no consent.
    api.force_authenticate(reader)
    api.put(f"/api/v1/channels/email/preferences/{reader.pk}", {"min_priority": "high"})

    assert trail(reader) == [
        ("email", "briefs", True, "settings"),
        ("email", "briefs", False, "unsubscribe_link"),
        ("email", "briefs", True, "settings"),
        ("email", "briefs", False, "admin"),
    ]


def test_an_esp_complaint_is_a_refusal_and_a_bounce_is_not(
    workspace: Workspace,
) -> None:
    reader = workspace.reader
    brief_send_now(user=reader, now=timezone.now())
    send = reader.email_sends.get()
    with override_settings(ANYMAIL=HOOK_SETTINGS):
        assert post_sendgrid(sendgrid_event(send, "bounce", "ev-bounce")).status_code == 200
        assert trail(reader) == [("email", "briefs", True, "settings")]
        assert post_sendgrid(sendgrid_event(send, "spamreport", "ev-spam")).status_code == 200
    assert trail(reader)[1:] == [("email", "briefs", False, "esp_event")]


# The admin


def test_consent_pages_are_read_only_and_show_only_the_staffs_tenant(
    people: TenantPeople, maya: User
) -> None:
    ana = UserFactory(tenant=people.other_tenant, username="ana")
    for person in (maya, ana):
        consent_record(
            user=person,
            channel="whatsapp",
            purpose="conversations",
            granted=False,
            source="whatsapp_keyword",
        )
    compliance = StaffFactory(tenant=people.tenant, roles=[COMPLIANCE_OFFICER])
    client = Client()
    client.force_login(compliance)

    for model, filters in (
        (ConsentRecord, "?channel=whatsapp&purpose=conversations&granted__exact=0"),
        (ChannelConsent, "?channel=whatsapp&opted_out__exact=1"),
    ):
        name = model._meta.model_name
        listing = client.get(reverse(f"admin:privacy_{name}_changelist") + filters)
        assert listing.status_code == 200
        assert [row.user for row in listing.context["cl"].queryset] == [maya]
        mine = model.objects.get(user=maya)
        change = reverse(f"admin:privacy_{name}_change", args=[mine.pk])
        assert client.get(change).status_code == 200
        assert client.post(change, {}).status_code == 403
        assert client.get(reverse(f"admin:privacy_{name}_add")).status_code == 403
        delete = reverse(f"admin:privacy_{name}_delete", args=[mine.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        theirs = model.objects.get(user=ana)
        foreign = client.get(reverse(f"admin:privacy_{name}_change", args=[theirs.pk]))
        assert foreign.status_code == 302  # "doesn't exist", back to the index
    assert ConsentRecord.objects.count() == 2
