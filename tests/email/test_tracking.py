"""The ESPs' tracking webhooks, through anymail's real views: statuses, opens and clicks counted
once however often an event is repeated, bounces and complaints that stop the briefs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from channels_app.email.models import EmailEvent, EmailPreferences, EmailSend
from channels_app.email.sending import brief_send_now, briefs_dispatch
from channels_app.events import Event
from tests.email.conftest import Workspace

pytestmark = pytest.mark.django_db

SECRET = "esp-hooks:7d3f0c2a9b"
SIGNING_KEY = "mailgun-signing-key-for-tests"
SENDGRID_HOOK = "/api/v1/channels/email/webhooks/sendgrid/tracking/"
MAILGUN_HOOK = "/api/v1/channels/email/webhooks/mailgun/tracking/"
HOOK_SETTINGS = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def basic(secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


@pytest.fixture
def hooks() -> Any:
    with override_settings(ANYMAIL=HOOK_SETTINGS):
        yield


@pytest.fixture
def sent(workspace: Workspace) -> EmailSend:
    outcome = brief_send_now(user=workspace.reader, now=timezone.now())
    assert outcome.status == "sent"
    return EmailSend.objects.get()


def sendgrid_event(send: EmailSend, event: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": "carmen@acme.example",
        "timestamp": int(time.time()),
        "event": event,
        "sg_event_id": event_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "anymail_id": send.esp_message_id,
        "send_id": str(send.pk),
        **extra,
    }


def post_sendgrid(*events: dict[str, Any], auth: str | None = None) -> Any:
    return Client().post(
        SENDGRID_HOOK,
        json.dumps(list(events)),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth or basic(),
    )


def test_delivery_opens_and_clicks_are_recorded_once_each(
    workspace: Workspace, hooks: None, sent: EmailSend
) -> None:
    delivered = sendgrid_event(sent, "delivered", "ev-delivered")
    opened = sendgrid_event(sent, "open", "ev-open-1", useragent="Mail/1.0")
    assert post_sendgrid(delivered, opened).status_code == 200
    # ESPs retry and batch: the same events again, then one more open and a click.
    assert post_sendgrid(opened, delivered).status_code == 200
    assert post_sendgrid(opened).status_code == 200
    again = sendgrid_event(sent, "open", "ev-open-2")
    click = sendgrid_event(sent, "click", "ev-click-1", url="https://acme.example/")
    assert post_sendgrid(again, click, click).status_code == 200
    sent.refresh_from_db()
    assert sent.status == "delivered"
    assert (sent.open_count, sent.click_count) == (2, 1)
    assert sent.delivered_at and sent.opened_at and sent.clicked_at
    assert EmailEvent.objects.filter(send=sent).count() == 4
    # The console's rates: one email, delivered, opened and clicked, whatever the repeats.
    days = APIClient()
    days.force_authenticate(workspace.admin)
    today = days.get("/api/v1/channels/email/engagement?days=2").json()["days"][-1]
    assert today["date"] == timezone.now().date().isoformat()
    assert (today["sent"], today["delivered"], today["opened"], today["clicked"]) == (1, 1, 1, 1)
    assert today["open_rate"] == 1.0 and today["click_rate"] == 1.0 and today["bounce_rate"] == 0.0


def test_a_hard_bounce_stops_the_briefs_to_that_address(
    workspace: Workspace, hooks: None, sent: EmailSend
) -> None:
    bounce = sendgrid_event(
        sent,
        "bounce",
        "ev-bounce",
        type="bounce",
        reason="550 5.1.1 The email account does not exist",
    )
    assert post_sendgrid(bounce).status_code == 200
    sent.refresh_from_db()
    assert sent.status == "bounced" and sent.bounced_at is not None
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    assert not preferences.enabled and preferences.disabled_reason == "bounced"
    assert preferences.next_send_at is None
    # A late "delivered" never undoes the bounce.
    post_sendgrid(sendgrid_event(sent, "delivered", "ev-late"))
    sent.refresh_from_db()
    assert sent.status == "bounced"
    # Tomorrow's run has nobody to send to.
    assert briefs_dispatch(now=timezone.now() + timedelta(days=1)) == []
    assert Event.objects.filter(kind="delivery.updated", data__status="bounced").count() == 1


def test_a_soft_bounce_does_not(workspace: Workspace, hooks: None, sent: EmailSend) -> None:
    blocked = sendgrid_event(sent, "bounce", "ev-blocked", type="blocked", reason="421 try later")
    assert post_sendgrid(blocked).status_code == 200
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert EmailPreferences.objects.get(user=workspace.reader).enabled


def test_a_complaint_stops_the_briefs(workspace: Workspace, hooks: None, sent: EmailSend) -> None:
    assert post_sendgrid(sendgrid_event(sent, "spamreport", "ev-spam")).status_code == 200
    sent.refresh_from_db()
    assert sent.complained_at is not None
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    assert not preferences.enabled and preferences.disabled_reason == "complained"


def mailgun_event(send: EmailSend, event: str, token: str, **data: Any) -> dict[str, Any]:
    timestamp = str(int(time.time()))
    signature = hmac.new(
        SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "timestamp": float(timestamp),
            "id": "Ase7i2zsRYeDXztHGENqRA",
            "recipient": "carmen@acme.example",
            "message": {"headers": {"message-id": "20260101.abc@mg.engarde.example"}},
            "user-variables": {"send_id": str(send.pk)},
            **data,
        },
    }


def post_mailgun(payload: dict[str, Any], auth: str | None = None) -> Any:
    return Client().post(
        MAILGUN_HOOK,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth or basic(),
    )


def test_mailgun_events_signed_and_deduplicated(
    workspace: Workspace, hooks: None, sent: EmailSend
) -> None:
    opened = mailgun_event(sent, "opened", "tok-open")
    assert post_mailgun(opened).status_code == 200
    assert post_mailgun(opened).status_code == 200  # Mailgun retried it
    sent.refresh_from_db()
    assert sent.open_count == 1
    failed = mailgun_event(
        sent,
        "failed",
        "tok-fail",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": "No such user"}},
    )
    assert post_mailgun(failed).status_code == 200
    sent.refresh_from_db()
    assert sent.status == "bounced"
    assert EmailPreferences.objects.get(user=workspace.reader).disabled_reason == "bounced"


def test_webhooks_refuse_what_they_cannot_trust(workspace: Workspace, sent: EmailSend) -> None:
    opened = sendgrid_event(sent, "open", "ev-open")
    # Without a configured secret, nothing is accepted (anymail alone would accept anything).
    with override_settings(ANYMAIL={}):
        assert post_sendgrid(opened).status_code == 400
    with override_settings(ANYMAIL=HOOK_SETTINGS):
        assert post_sendgrid(opened, auth=basic("esp-hooks:wrong")).status_code == 400
        forged = mailgun_event(sent, "failed", "tok-x", severity="permanent")
        forged["signature"]["signature"] = "0" * 64
        assert post_mailgun(forged).status_code == 400
        assert post_mailgun(forged, auth=basic("nope:nope")).status_code == 400
        # Well signed, about a message we never sent: acknowledged, nothing stored.
        unknown = sendgrid_event(sent, "open", "ev-unknown", send_id="999999", anymail_id="x")
        assert post_sendgrid(unknown).status_code == 200
    assert not EmailEvent.objects.exists()
    sent.refresh_from_db()
    assert sent.open_count == 0
    assert EmailPreferences.objects.get(user=workspace.reader).enabled
