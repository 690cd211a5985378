"""The console's email pages (brief preview, sends with their rates, runs with their progress)
and the system checks of the email settings."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import MEMBER, SUPPORT_ADMIN
from channels_app.email.checks import email_check
from channels_app.email.models import BriefRun, EmailPreferences, EmailSend
from channels_app.email.sending import brief_send_now
from tests.email.conftest import Workspace
from tests.factories import StaffFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def preview(user: User, html: bool = False) -> str:
    name = "preview_html" if html else "preview"
    return reverse(f"admin:channels_app_emailpreferences_{name}", args=[user.pk])


def test_admin_previews_anyones_brief_for_today_without_sending_it(workspace: Workspace) -> None:
    admin = login(workspace.admin)
    page = admin.get(preview(workspace.reader))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your En Garde Daily Brief - " in text and "1 urgent item needs review" in text
    assert preview(workspace.reader, html=True) in text  # the iframe
    raw = admin.get(preview(workspace.reader, html=True))
    assert raw.status_code == 200 and raw["X-Frame-Options"] == "SAMEORIGIN"
    assert b"Spring Sale" in raw.content and b"<style" not in raw.content
    # Someone who never set preferences: the defaults' brief.
    newcomer = UserFactory(tenant=workspace.tenant, username="newcomer")
    assert admin.get(preview(newcomer)).status_code == 200
    assert mail.outbox == [] and not EmailSend.objects.exists()


def test_preview_is_scoped_to_the_workspace_and_to_staff(workspace: Workspace) -> None:
    foreign = UserFactory(tenant=TenantFactory(slug="globex"), username="ana")
    admin = login(workspace.admin)
    assert admin.get(preview(foreign)).status_code == 404
    assert admin.get(preview(foreign, html=True)).status_code == 404
    support = StaffFactory(tenant=workspace.tenant, username="sam", roles=[SUPPORT_ADMIN])
    assert login(support).get(preview(workspace.reader)).status_code == 200  # may view
    member = UserFactory(tenant=workspace.tenant, username="maya", roles=[MEMBER])
    denied = login(member).get(preview(workspace.reader))
    assert denied.status_code == 302 and "/admin/login/" in denied["Location"]


def test_runs_show_their_progress_and_refresh_while_under_way(workspace: Workspace) -> None:
    now = timezone.now()
    BriefRun.objects.create(
        tenant=workspace.tenant, first_due_at=now, due=10, sent=2, skipped=1, failed=0
    )
    url = reverse("admin:channels_app_briefrun_changelist")
    page = login(workspace.admin).get(url).content.decode()
    assert "3/10 sending" in page and "width:30%" in page
    assert '<meta http-equiv="refresh" content="10">' in page
    BriefRun.objects.update(sent=9, finished_at=now)
    page = login(workspace.admin).get(url).content.decode()
    assert "10/10 done" in page and 'http-equiv="refresh"' not in page


def test_sends_list_shows_the_days_open_and_click_rates(workspace: Workspace) -> None:
    brief_send_now(user=workspace.reader, now=timezone.now())
    EmailSend.objects.update(delivered_at=timezone.now(), opened_at=timezone.now())
    page = login(workspace.admin).get(reverse("admin:channels_app_emailsend_changelist"))
    assert page.status_code == 200
    today = next(d for d in page.context["engagement"] if d["date"] == timezone.now().date())
    assert (today["sent"], today["opened"], today["open_rate"]) == (1, 1, 1.0)
    assert 'id="email-engagement"' in page.content.decode()
    # The address is masked for a role without view_pii.
    support = StaffFactory(tenant=workspace.tenant, username="sam", roles=[SUPPORT_ADMIN])
    send = EmailSend.objects.get()
    detail = login(support).get(reverse("admin:channels_app_emailsend_change", args=[send.pk]))
    assert b"c***@acme.example" in detail.content and b"carmen@acme.example" not in detail.content


def test_saving_preferences_in_the_admin_reschedules(workspace: Workspace) -> None:
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    url = reverse("admin:channels_app_emailpreferences_change", args=[preferences.pk])
    form: dict[str, Any] = {
        "user": workspace.reader.pk,
        "enabled": "on",
        "delivery_time": "17:30",
        "time_zone": "Asia/Tokyo",
        "frequency": "daily",
        "custom_days": "[]",
        "sections": '["seo"]',
        "min_priority": "medium",
        "digest_format": "summary",
        "email": "",
    }
    response = login(workspace.admin).post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    preferences.refresh_from_db()
    local = preferences.next_send_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute) == (17, 30)


def ids(messages: list[Any]) -> list[str]:
    return sorted(m.id for m in messages)


ESP_KEYS = {
    "SENDGRID_API_KEY": "SG.x",
    "MAILGUN_API_KEY": "key-x",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "sign-x",
    "WEBHOOK_SECRET": "a:b",
}


def test_checks_name_each_missing_email_setting() -> None:
    common = {"ENABLE_EMAIL_BRIEFS": True, "PUBLIC_BASE_URL": "https://console.example.com"}
    with override_settings(
        **common, EMAIL_ESP="sendgrid", EMAIL_BACKUP_ESP="mailgun", ANYMAIL=ESP_KEYS
    ):
        assert email_check() == []
    with override_settings(**common, EMAIL_ESP="sendgrid", EMAIL_BACKUP_ESP="mailgun", ANYMAIL={}):
        assert ids(email_check()) == [
            "channels_app.email.W001",
            "channels_app.email.W002",
            "channels_app.email.W003",
            "channels_app.email.W004",
        ]
    keys = {k: v for k, v in ESP_KEYS.items() if k != "SENDGRID_API_KEY"}
    with override_settings(
        **common, EMAIL_ESP="sendgrid", EMAIL_BACKUP_ESP="mailgun", ANYMAIL=keys
    ):
        [warning] = email_check()
        assert warning.id == "channels_app.email.W001" and "SENDGRID_API_KEY" in warning.msg
    with override_settings(**common, EMAIL_ESP="postcard", EMAIL_BACKUP_ESP="", ANYMAIL={}):
        assert ids(email_check()) == ["channels_app.email.E001"]
    with override_settings(ENABLE_EMAIL_BRIEFS=False, EMAIL_ESP="sendgrid", ANYMAIL={}):
        assert email_check() == []
    with override_settings(
        ENABLE_EMAIL_BRIEFS=True,
        PUBLIC_BASE_URL="",
        EMAIL_ESP="test",
        EMAIL_BACKUP_ESP="",
        ANYMAIL={},
    ):
        assert ids(email_check()) == ["channels_app.email.W005"]
