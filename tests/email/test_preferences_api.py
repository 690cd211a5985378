"""GET and PUT /api/v1/channels/email/preferences/{user_id}: the person themselves, staff of the
workspace by role, nobody from another workspace; bad values answered by field, nothing saved."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import MEMBER
from channels_app.email.models import EmailPreferences
from tests.conftest import TenantPeople
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(user: User) -> str:
    return f"/api/v1/channels/email/preferences/{user.pk}"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def member(people: TenantPeople) -> User:
    return UserFactory(
        tenant=people.tenant,
        username="maya",
        email="maya@acme.example",
        time_zone="America/Los_Angeles",
        roles=[MEMBER],
    )


def test_without_preferences_the_defaults_are_shown_unsubscribed(member: User) -> None:
    response = client_for(member).get(url(member))
    assert response.status_code == 200
    body = response.json()
    assert body["subscribed"] is False and body["enabled"] is False
    assert body["timezone"] == "America/Los_Angeles"  # the account's own zone
    assert body["delivery_time"] == "08:00"
    assert body["include_sections"] == ["paid_ads", "seo", "content", "audience", "action_items"]
    assert body["min_priority"] == "medium" and body["digest_format"] == "full"
    assert body["email"] == "maya@acme.example" and body["email_is_account_address"] is True
    assert not EmailPreferences.objects.exists()  # a GET writes nothing


def test_put_subscribes_and_schedules_the_next_brief(member: User) -> None:
    response = client_for(member).put(
        url(member),
        {
            "delivery_time": "07:30",
            "timezone": "Europe/Paris",
            "frequency": "custom",
            "custom_days": [4, 0, 2, 2],
            "include_sections": ["audience", "paid_ads"],
            "min_priority": "high",
            "digest_format": "bullet_points",
            "email": "Maya.Work@Example.org",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subscribed"] and body["enabled"]
    assert body["custom_days"] == [0, 2, 4]
    assert body["include_sections"] == ["paid_ads", "audience"]  # in the brief's order
    assert body["email"] == "maya.work@example.org" and not body["email_is_account_address"]
    saved = EmailPreferences.objects.get(user=member)
    assert saved.delivery_time == time(7, 30) and saved.time_zone == "Europe/Paris"
    # The next brief: a Monday, Wednesday or Friday at 07:30 in Paris.
    local = saved.next_send_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (7, 30) and local.weekday() in (0, 2, 4)
    assert saved.next_send_at > datetime.now(UTC)
    assert body["next_send_at"] is not None

    # A PUT changes only what it names.
    response = client_for(member).put(url(member), {"enabled": False}, format="json")
    assert response.status_code == 200
    saved.refresh_from_db()
    assert not saved.enabled and saved.disabled_reason == "user" and saved.next_send_at is None
    assert saved.time_zone == "Europe/Paris" and saved.digest_format == "bullet_points"


BAD = [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "“Mars/Olympus_Mons” is not an IANA time zone"),
    ({"delivery_time": "25:00"}, "delivery_time", "“25:00” is not a time of day"),
    ({"delivery_time": "8am"}, "delivery_time", "use HH:MM, from 00:00 to 23:59"),
    ({"include_sections": ["seo", "weather"]}, "include_sections", "“weather” is not a section"),
    ({"frequency": "hourly"}, "frequency", "“hourly” is not a frequency"),
    ({"frequency": "weekly"}, "weekday", "A weekly brief needs its weekday."),
    ({"frequency": "custom", "custom_days": []}, "custom_days", "at least one weekday"),
    ({"custom_days": [1, 9, "x"]}, "custom_days", "9, x: not weekdays"),
    ({"weekday": 7}, "weekday", "7 is not a weekday"),
    ({"min_priority": "critical"}, "min_priority", "“critical” is not a priority"),
    ({"digest_format": "haiku"}, "digest_format", "“haiku” is not a digest format"),
    ({"email": "not an address"}, "email", "valid email address"),
    ({"enabled": True, "colour": "blue"}, "colour", "Not a preference"),
]


@pytest.mark.parametrize(
    ("payload", "field", "message"), BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)]
)
def test_bad_values_are_refused_by_field_and_nothing_is_saved(
    member: User, payload: dict[str, Any], field: str, message: str
) -> None:
    response = client_for(member).put(url(member), payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"], body
    assert any(message in text for text in body["fields"][field]), body["fields"][field]
    assert not EmailPreferences.objects.filter(user=member).exists()


def test_a_body_that_is_not_an_object_is_a_400(member: User) -> None:
    response = client_for(member).put(url(member), ["enabled"], format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_staff_act_by_role_and_nobody_crosses_workspaces(
    people: TenantPeople, member: User
) -> None:
    # The owner (super_admin) may read and change a member's preferences.
    owner = client_for(people.owner)
    assert owner.put(url(member), {"digest_format": "summary"}, format="json").status_code == 200
    assert owner.get(url(member)).json()["email"] == "maya@acme.example"
    # The teammate (support_admin) may read them, with the address masked, and change nothing.
    teammate = client_for(people.teammate)
    read = teammate.get(url(member))
    assert read.status_code == 200 and read.json()["email"] == "m***@acme.example"
    assert teammate.put(url(member), {"enabled": False}, format="json").status_code == 403
    # The outsider (another workspace's super_admin) does not even learn the user exists.
    outsider = client_for(people.outsider)
    assert outsider.get(url(member)).status_code == 404
    assert outsider.put(url(member), {"enabled": False}, format="json").status_code == 404
    # A member may not read a colleague's.
    assert client_for(member).get(url(people.teammate)).status_code == 403
    assert EmailPreferences.objects.get(user=member).enabled  # nothing above turned it off
    # Anonymous: 401.
    assert APIClient().get(url(member)).status_code == 401
