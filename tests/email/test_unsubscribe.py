"""Unsubscribing without a login: RFC 8058's one-click POST to the List-Unsubscribe URL, the
footer's page, and the preferences page, all on signed, expiring tokens."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from channels_app.email.models import EmailPreferences
from channels_app.email.sending import brief_send_now, briefs_dispatch
from channels_app.email.tokens import PREFERENCES, UNSUBSCRIBE, token_make
from channels_app.events import Event
from tests.email.conftest import Workspace

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def one_click_url(workspace: Workspace) -> str:
    assert brief_send_now(user=workspace.reader, now=timezone.now()).status == "sent"
    [message] = mail.outbox
    header = message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.fullmatch(r"<(https?://[^>]+)>", header)
    assert match, header
    return match.group(1)


def one_click(url: str) -> object:
    # What a mail client does (RFC 8058): a POST with this exact body, no cookies, no login.
    client = Client(enforce_csrf_checks=True)
    return client.post(
        path_of(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )


def test_one_click_unsubscribes_without_a_login(workspace: Workspace, one_click_url: str) -> None:
    assert urlsplit(one_click_url).path == "/api/v1/channels/email/unsubscribe"
    response = one_click(one_click_url)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "unsubscribed", "changed": True}
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    assert not preferences.enabled and preferences.disabled_reason == "unsubscribed"
    assert preferences.next_send_at is None
    event = Event.objects.get(kind="delivery.updated", data__status="briefs_unsubscribed")
    assert event.data["source"] == "one_click"
    # Clicked twice, or by two clients: the same answer, nothing more changes.
    assert one_click(one_click_url).json() == {"status": "unsubscribed", "changed": False}
    assert briefs_dispatch(now=timezone.now() + timedelta(days=2)) == []
    # Turning the briefs back on is the person's choice, from their preferences.
    client = Client()
    client.force_login(workspace.reader)
    back = client.put(
        f"/api/v1/channels/email/preferences/{workspace.reader.pk}",
        '{"enabled": true}',
        content_type="application/json",
    )
    assert back.status_code == 200 and back.json()["disabled_reason"] == ""


def test_forged_expired_and_misused_tokens_are_refused(
    workspace: Workspace, one_click_url: str
) -> None:
    tampered = one_click_url[:-3] + ("abc" if not one_click_url.endswith("abc") else "xyz")
    response = one_click(tampered)
    assert response.status_code == 400 and response.json()["error"] == "invalid_token"

    # A preferences token is not an unsubscribe token.
    other = token_make(user_id=workspace.reader.pk, purpose=PREFERENCES)
    response = one_click(f"http://testserver/api/v1/channels/email/unsubscribe?token={other}")
    assert response.status_code == 400 and response.json()["error"] == "invalid_token"

    class LongAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 91 * 24 * 3600)

    expired = LongAgo(salt=UNSUBSCRIBE).sign_object({"u": workspace.reader.pk})
    response = one_click(f"http://testserver/api/v1/channels/email/unsubscribe?token={expired}")
    assert response.status_code == 400 and response.json()["error"] == "expired_token"

    missing = Client().post("/api/v1/channels/email/unsubscribe", {})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_token"
    assert EmailPreferences.objects.get(user=workspace.reader).enabled


def test_the_footer_page_asks_before_it_unsubscribes(workspace: Workspace) -> None:
    brief_send_now(user=workspace.reader, now=timezone.now())
    link = re.search(r"Unsubscribe: (\S+)", mail.outbox[0].body).group(1)
    assert urlsplit(link).path == "/email/unsubscribe/"
    client = Client()
    # Link scanners and previews fetch links: a GET only shows the button.
    page = client.get(path_of(link))
    assert page.status_code == 200 and b"Unsubscribe from your briefs?" in page.content
    assert EmailPreferences.objects.get(user=workspace.reader).enabled
    done = client.post(path_of(link))
    assert done.status_code == 200 and b"unsubscribed</h1>" in done.content
    assert not EmailPreferences.objects.get(user=workspace.reader).enabled
    assert client.get("/email/unsubscribe/?token=nonsense").status_code == 400


def test_the_preferences_page_changes_the_brief(workspace: Workspace) -> None:
    brief_send_now(user=workspace.reader, now=timezone.now())
    link = re.search(r"Email preferences: (\S+)", mail.outbox[0].body).group(1)
    client = Client()
    page = client.get(path_of(link))
    assert page.status_code == 200 and b"Your brief, your way" in page.content
    form = {
        "enabled": "on",
        "delivery_time": "06:45",
        "time_zone": "Europe/Lisbon",
        "frequency": "weekly",
        "weekday": "4",
        "sections": ["seo", "action_items"],
        "min_priority": "high",
        "digest_format": "summary",
    }
    saved = client.post(path_of(link), form)
    assert saved.status_code == 200 and b"Saved." in saved.content
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    assert (preferences.frequency, preferences.weekday, preferences.time_zone) == (
        "weekly",
        4,
        "Europe/Lisbon",
    )
    assert preferences.sections == ["seo", "action_items"]
    assert preferences.next_send_at.astimezone(timezone.get_fixed_timezone(0)).weekday() in (3, 4)
    # A weekly brief with no weekday: the form says so and nothing changes.
    refused = client.post(path_of(link), {**form, "weekday": "", "digest_format": "full"})
    assert b"A weekly brief needs its weekday." in refused.content
    assert EmailPreferences.objects.get(user=workspace.reader).digest_format == "summary"
    # The unsubscribe token does not open the preferences.
    unsubscribe_token = token_make(user_id=workspace.reader.pk, purpose=UNSUBSCRIBE)
    assert client.get(f"/email/preferences/?token={unsubscribe_token}").status_code == 400
