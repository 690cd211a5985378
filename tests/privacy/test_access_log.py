"""The access log: what writes a row, who reads it, and that nobody, a superuser with raw SQL
included, changes or removes a row inside its seven years."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from privacy.models import ACCESS_LOG_RETENTION_DAYS, AdminAccessLog
from tests.planted import Planted

Action = AdminAccessLog.Action
REASON = "Ticket 4411: the customer asked for a call back"


def rows(**filters: object) -> list[AdminAccessLog]:
    return list(AdminAccessLog.objects.filter(**filters).order_by("timestamp"))


@pytest.mark.parametrize("who", ["owner", "support", "compliance", "readonly"])
def test_each_view_of_a_conversation_page_writes_one_row(planted: Planted, who: str) -> None:
    url = f"/admin/channels_app/conversation/{planted.conversation.pk}/change/"
    client = planted.client(who)
    client.get(url, HTTP_USER_AGENT="Mozilla/5.0 (console test)")
    client.get(url)
    entries = rows(action=Action.VIEW_CONVERSATION)
    assert len(entries) == 2
    first = entries[0]
    assert first.admin_user == planted.staff[who] and first.tenant_id == planted.tenant.pk
    assert (first.resource_type, first.resource_id) == (
        "conversation",
        str(planted.conversation.pk),
    )
    assert first.pii_accessed is False  # masked
    assert first.user_agent == "Mozilla/5.0 (console test)"
    assert first.ip_hash and "127.0.0.1" not in first.ip_hash


def test_the_apis_and_the_approval_pages_are_logged_too(planted: Planted) -> None:
    support = planted.client("support")
    support.get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    support.get(f"/api/v1/channels/whatsapp/conversations/{planted.person.pk}")
    support.get(f"/admin/hitl/approval/{planted.held_approval.pk}/change/")
    support.get(f"/api/v1/admin/hitl/{planted.held_approval.pk}")
    support.get("/admin/channels_app/conversation/", {"q": "maya"})
    assert [(e.action, e.resource_type) for e in rows()] == [
        (Action.VIEW_CONVERSATION, "conversation"),
        (Action.VIEW_CONVERSATION, "conversation"),
        (Action.VIEW_APPROVAL, "approval"),
        (Action.VIEW_APPROVAL, "approval"),
        (Action.SEARCH_CONVERSATIONS, "conversation"),
    ]


def test_the_switch_turns_the_log_off(planted: Planted) -> None:
    with override_settings(ADMIN_ACCESS_LOG_ENABLED=False):
        planted.client("owner").get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    assert rows() == []


def test_a_reveal_in_the_console_shows_in_the_access_log_page(planted: Planted) -> None:
    planted.client("owner").post(
        f"/admin/channels_app/conversation/{planted.conversation.pk}/reveal/",
        {"justification": REASON},
    )
    page = planted.client("compliance").get("/admin/privacy/adminaccesslog/")
    assert page.status_code == 200
    html = page.content.decode()
    assert REASON in html and "Revealed personal data" in html
    # Reading the log is itself a row.
    assert rows(action=Action.READ_ACCESS_LOG)[0].admin_user == planted.staff["compliance"]


@pytest.mark.parametrize("who", ["support", "readonly", "manager"])
def test_only_compliance_and_super_admins_read_it(planted: Planted, who: str) -> None:
    assert planted.client(who).get("/admin/privacy/adminaccesslog/").status_code == 403
    assert planted.client(who).get("/api/v1/admin/access-log").status_code == 403


def test_the_admin_offers_no_way_to_add_change_or_delete(planted: Planted) -> None:
    planted.client("owner").get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    entry = rows()[0]
    superuser = User.objects.create_superuser("root", password="x-very-long-password-1")
    from django.test import Client

    client = Client()
    client.force_login(superuser)
    base = "/admin/privacy/adminaccesslog/"
    assert client.get(f"{base}add/").status_code == 403
    change = client.post(f"{base}{entry.pk}/change/", {"justification": "rewritten"})
    assert change.status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.justification == ""


def test_the_database_refuses_update_and_early_delete_whoever_asks(planted: Planted) -> None:
    planted.client("owner").get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    entry = rows()[0]
    for sql in (
        "UPDATE privacy_adminaccesslog SET justification = 'rewritten' WHERE id = %s",
        "DELETE FROM privacy_adminaccesslog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AdminAccessLog.objects.filter(pk=entry.pk).update(justification="rewritten")
    entry.refresh_from_db()
    assert entry.justification == ""


def test_a_row_past_seven_years_may_be_deleted_one_inside_may_not(planted: Planted) -> None:
    now = timezone.now()
    old = AdminAccessLog.objects.create(
        action=Action.VIEW_CONVERSATION,
        resource_type="conversation",
        timestamp=now - timedelta(days=ACCESS_LOG_RETENTION_DAYS + 1),
    )
    young = AdminAccessLog.objects.create(
        action=Action.VIEW_CONVERSATION,
        resource_type="conversation",
        timestamp=now - timedelta(days=ACCESS_LOG_RETENTION_DAYS - 1),
    )
    AdminAccessLog.objects.filter(pk=old.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AdminAccessLog.objects.filter(pk=young.pk).delete()
    assert list(AdminAccessLog.objects.values_list("pk", flat=True)) == [young.pk]


# --- the API ------------------------------------------------------------------------------


def test_the_api_filters_and_pages_newest_first(planted: Planted) -> None:
    owner, support = planted.client("owner"), planted.client("support")
    for _ in range(3):
        support.get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    owner.post(
        f"/api/v1/admin/conversations/{planted.conversation.pk}/reveal",
        {"justification": REASON},
        content_type="application/json",
    )
    api = planted.client("compliance")
    reveals = api.get("/api/v1/admin/access-log", {"action": "reveal_pii"}).json()
    assert [(r["admin_user"], r["justification"]) for r in reveals["results"]] == [
        ("owner", REASON)
    ]
    by_support = api.get(
        "/api/v1/admin/access-log", {"user": planted.staff["support"].pk, "page_size": 2}
    ).json()
    assert len(by_support["results"]) == 2 and by_support["next"]
    rest = api.get(by_support["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    stamps = [r["timestamp"] for r in by_support["results"] + rest["results"]]
    assert stamps == sorted(stamps, reverse=True)
    resource = api.get(
        "/api/v1/admin/access-log",
        {"resource_type": "conversation", "resource_id": str(planted.conversation.pk)},
    ).json()
    assert len(resource["results"]) == 4
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert api.get("/api/v1/admin/access-log", {"date_from": later}).json()["results"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"action": "dance"}, "action"),
        ({"user": "maya"}, "user"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-12-02T00:00:00Z", "date_to": "2026-12-01T00:00:00Z"}, "date_to"),
    ],
)
def test_bad_filters_are_a_400_naming_them(
    planted: Planted, query: dict[str, str], field: str
) -> None:
    response = planted.client("compliance").get("/api/v1/admin/access-log", query)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_the_api_shows_only_the_callers_tenant(planted: Planted) -> None:
    planted.client("owner").get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    outsider = planted.client("outsider").get("/api/v1/admin/access-log").json()
    assert outsider["results"] == []  # nothing of Acme's (their own read is logged after)
    mine = planted.client("compliance").get("/api/v1/admin/access-log").json()
    assert [r["action"] for r in mine["results"]] == ["view_conversation"]


@pytest.mark.parametrize(("who", "pii"), [("compliance", True), ("support", False)])
def test_a_persons_page_is_logged_with_whether_it_showed_pii(
    planted: Planted, who: str, pii: bool
) -> None:
    page = planted.client(who).get(f"/admin/accounts/user/{planted.person.pk}/change/")
    assert page.status_code == 200
    [entry] = rows(action=Action.VIEW_USER)
    assert (entry.resource_id, entry.pii_accessed) == (str(planted.person.pk), pii)
