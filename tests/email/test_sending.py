"""Sending through the real anymail backends, SendGrid first and Mailgun second, against a local
fake of both APIs; and the sending endpoints of the API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import SUPPORT_ADMIN
from channels_app.email.models import BriefRun, EmailPreferences, EmailSend
from channels_app.email.sending import briefs_batch_send
from channels_app.email.services import preferences_update
from tests.email.conftest import Workspace
from tests.email.fake_esp import MAILGUN_DOMAIN, FakeESP
from tests.factories import StaffFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send_brief(user: User, as_user: User | None = None) -> Any:
    return client_for(as_user or user).post(f"/api/v1/channels/email/send-daily-brief/{user.pk}")


@pytest.fixture
def esp() -> Iterator[FakeESP]:
    with FakeESP(rejects={"bounce@acme.example"}) as fake, override_settings(**fake.settings()):
        yield fake


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_primary_sends_alone_when_it_works(workspace: Workspace, esp: FakeESP) -> None:
    response = send_brief(workspace.reader)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "sent" and body["esp"] == "sendgrid" and not body["failed_over"]
    [request] = esp.received
    assert request.esp == "sendgrid" and request.to == ["carmen@acme.example"]
    send = EmailSend.objects.get()
    # anymail names each SendGrid message with its own id, which tracking events carry back.
    assert body["message_id"] == send.esp_message_id == request.metadata["anymail_id"]
    assert request.metadata["send_id"] == str(send.pk)
    assert request.subject == send.subject and "Daily Brief" in request.subject
    assert request.header("List-Unsubscribe").startswith("<http://")
    assert request.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert "Spring Sale" in request.html
    assert send.status == "sent" and send.sent_at is not None


def test_a_5xx_from_the_primary_fails_over_to_the_backup(
    workspace: Workspace, esp: FakeESP
) -> None:
    esp.script("sendgrid", 503)
    response = send_brief(workspace.reader)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "sent" and body["esp"] == "mailgun" and body["failed_over"]
    assert [(r.esp, r.status) for r in esp.received] == [("sendgrid", 503), ("mailgun", 200)]
    mailgun = esp.of("mailgun")[0]
    assert mailgun.to == ["carmen@acme.example"]
    assert mailgun.path == f"/v3/{MAILGUN_DOMAIN}/messages"
    assert mailgun.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    send = EmailSend.objects.get()
    assert mailgun.metadata["send_id"] == str(send.pk)
    assert send.esp == "mailgun" and send.failed_over and send.error_code == "sendgrid:http_503"
    assert send.esp_message_id.startswith("<") and send.esp_message_id.endswith(
        f"@{MAILGUN_DOMAIN}>"
    )


def test_an_unreachable_primary_fails_over(workspace: Workspace, esp: FakeESP) -> None:
    settings = esp.settings(SENDGRID_API_URL=f"http://127.0.0.1:{free_port()}/v3/")
    with override_settings(**settings):
        body = send_brief(workspace.reader).json()
    assert body["esp"] == "mailgun" and body["failed_over"]
    assert EmailSend.objects.get().error_code == "sendgrid:unreachable"


def test_a_refused_key_at_the_primary_fails_over(workspace: Workspace, esp: FakeESP) -> None:
    with override_settings(**esp.settings(SENDGRID_API_KEY="SG.revoked")):
        body = send_brief(workspace.reader).json()
    assert body["esp"] == "mailgun"
    assert EmailSend.objects.get().error_code == "sendgrid:http_401"


def test_a_rejected_recipient_does_not_fail_over(workspace: Workspace, esp: FakeESP) -> None:
    preferences_update(user=workspace.reader, now=timezone.now(), email="bounce@acme.example")
    response = send_brief(workspace.reader)
    assert response.status_code == 502
    assert response.json()["error"] == "http_400" and response.json()["status"] == "failed"
    assert [(r.esp, r.status) for r in esp.received] == [("sendgrid", 400)]  # Mailgun never asked
    send = EmailSend.objects.get()
    assert send.status == "rejected" and send.esp == ""
    # A rejected brief is not retried: the same address would be refused again.
    assert send_brief(workspace.reader).json() == {"status": "skipped", "reason": "already_sent"}
    assert len(esp.received) == 1


def test_when_both_esps_fail_the_brief_waits_for_the_next_attempt(
    workspace: Workspace, esp: FakeESP
) -> None:
    esp.script("sendgrid", 500)
    esp.script("mailgun", 503)
    response = send_brief(workspace.reader)
    assert response.status_code == 502
    assert response.json()["error"] == "esp_unavailable"
    send = EmailSend.objects.get()
    assert send.status == "failed"
    # The ESPs are back: trying again takes the failed brief back and sends it, once.
    body = send_brief(workspace.reader).json()
    assert body["status"] == "sent" and body["esp"] == "sendgrid"
    assert EmailSend.objects.get().status == "sent"
    assert len(esp.sent) == 1


def test_a_run_retries_what_no_esp_took_and_recounts(workspace: Workspace, esp: FakeESP) -> None:
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    run = BriefRun.objects.create(tenant=workspace.tenant, first_due_at=timezone.now(), due=1)
    item = [(preferences.pk, timezone.localdate().isoformat())]
    esp.script("sendgrid", 502)
    esp.script("mailgun", 500)
    first = briefs_batch_send(run_id=run.pk, items=item, batch="first")
    assert first["failed"] == 1
    run.refresh_from_db()
    assert (run.sent, run.failed, run.finished_at is not None) == (0, 1, True)
    retry = briefs_batch_send(run_id=run.pk, items=item, attempt=1, batch="retry")
    assert retry["sent"] == 1
    run.refresh_from_db()
    assert (run.due, run.sent, run.skipped, run.failed) == (1, 1, 0, 0)


# The API around sending


def test_send_daily_brief_respects_enabled_and_subscription(workspace: Workspace) -> None:
    preferences_update(user=workspace.reader, now=timezone.now(), enabled=False)
    assert send_brief(workspace.reader).json() == {"status": "skipped", "reason": "user_disabled"}
    stranger = UserFactory(tenant=workspace.tenant, username="newcomer")
    assert send_brief(stranger).json() == {"status": "skipped", "reason": "not_subscribed"}
    assert mail.outbox == []


def test_send_daily_brief_permissions(workspace: Workspace) -> None:
    support = StaffFactory(tenant=workspace.tenant, username="sam", roles=[SUPPORT_ADMIN])
    assert send_brief(workspace.reader, as_user=support).status_code == 403
    outsider = StaffFactory(tenant=TenantFactory(slug="globex"), username="oliver")
    assert send_brief(workspace.reader, as_user=outsider).status_code == 404
    assert send_brief(workspace.reader, as_user=workspace.admin).json()["status"] == "sent"
    assert [m.to for m in mail.outbox] == [["carmen@acme.example"]]
    message = mail.outbox[0]
    assert message.alternatives[0][1] == "text/html"  # HTML, with the plain text as the body
    assert "AT A GLANCE" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@override_settings(ENABLE_EMAIL_BRIEFS=False)
def test_with_the_switch_off_nothing_is_sent(workspace: Workspace) -> None:
    response = send_brief(workspace.reader)
    assert response.status_code == 503 and response.json()["error"] == "disabled"
    response = client_for(workspace.admin).post(
        "/api/v1/channels/email/send",
        {"to": str(workspace.reader.pk), "subject": "Hi", "body": "Hello"},
        format="json",
    )
    assert response.status_code == 503
    assert mail.outbox == [] and not EmailSend.objects.exists()


def test_custom_email(workspace: Workspace) -> None:
    admin = client_for(workspace.admin)
    response = admin.post(
        "/api/v1/channels/email/send",
        {
            "to": "Carmen@Acme.example",
            "subject": "Budget review on Friday",
            "body": "Hi Carmen,\n\nCan we go over the <Spring Sale> numbers?",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "sent" and response.json()["esp"] == "test"
    [message] = mail.outbox
    assert message.subject == "Budget review on Friday" and message.to == ["carmen@acme.example"]
    html = message.alternatives[0][0]
    assert "&lt;Spring Sale&gt;" in html and "<Spring Sale>" not in html  # escaped
    assert "Can we go over the <Spring Sale> numbers?" in message.body
    send = EmailSend.objects.get()
    assert (
        send.kind == "custom" and send.sent_by == workspace.admin and send.user == workspace.reader
    )


def test_custom_email_refusals(workspace: Workspace) -> None:
    admin = client_for(workspace.admin)
    send = "/api/v1/channels/email/send"
    other = UserFactory(tenant=TenantFactory(slug="globex"), email="ana@globex.example")
    assert (
        admin.post(
            send, {"to": "ana@globex.example", "subject": "x", "body": "y"}, format="json"
        ).status_code
        == 404
    )
    assert (
        admin.post(
            send, {"to": str(other.pk), "subject": "x", "body": "y"}, format="json"
        ).status_code
        == 404
    )
    bad = admin.post(
        send,
        {"to": "carmen@acme.example", "subject": "x", "body": "y", "template": "daily_brief"},
        format="json",
    )
    assert bad.status_code == 400 and "template" in bad.json()["fields"]
    missing = admin.post(send, {"to": "carmen@acme.example"}, format="json")
    assert missing.status_code == 400 and {"subject", "body"} <= set(missing.json()["fields"])
    support = StaffFactory(tenant=workspace.tenant, username="sam", roles=[SUPPORT_ADMIN])
    denied = client_for(support).post(
        send, {"to": "carmen@acme.example", "subject": "x", "body": "y"}, format="json"
    )
    assert denied.status_code == 403
    # An address that bounced is suppressed.
    EmailPreferences.objects.filter(user=workspace.reader).update(
        enabled=False, disabled_reason="bounced"
    )
    suppressed = admin.post(
        send, {"to": "carmen@acme.example", "subject": "x", "body": "y"}, format="json"
    )
    assert suppressed.status_code == 409 and suppressed.json()["error"] == "suppressed"
    assert mail.outbox == []


def test_templates_are_listed(workspace: Workspace) -> None:
    response = client_for(workspace.reader).get("/api/v1/channels/email/templates")
    assert response.status_code == 200
    templates = {t["name"]: t for t in response.json()["templates"]}
    assert set(templates) == {"daily_brief", "custom_message"}
    assert templates["custom_message"]["custom"] and not templates["daily_brief"]["custom"]
    assert templates["daily_brief"]["subject"].startswith("Your En Garde Daily Brief - {date}")
    assert APIClient().get("/api/v1/channels/email/templates").status_code == 401
