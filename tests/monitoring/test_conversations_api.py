"""The console's conversation list, search and stats APIs: filters, search in what was written,
masked previews, the tenant's conversations only, and a page that costs the same queries
whatever its size."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import MEMBER
from accounts.services import phone_number_add
from channels_app.models import Channel, Conversation
from channels_app.outbound import message_store
from hitl.services import approval_request
from privacy.models import AdminAccessLog
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/admin/conversations"


def client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def planted(people: TenantPeople) -> dict[str, Conversation]:
    now = timezone.now()
    leo = UserFactory(tenant=people.tenant, username="leo")
    phone_number_add(user=leo, number="+14155550102", verified=True)
    budget = ConversationFactory(
        tenant=people.tenant, user=leo, channel=Channel.WHATSAPP, priority="high"
    )
    message_store(
        conversation=budget,
        sender_kind="user",
        body="Please raise the win-back budget; call me on +1 415 555 0102",
    )
    chat = ConversationFactory(
        tenant=people.tenant,
        channel=Channel.CHAT,
        current_agent_type="seo_optimization",
        sentiment="negative",
    )
    message_store(conversation=chat, sender_kind="user", body="Our rankings dropped again")
    Conversation.objects.filter(pk=chat.pk).update(last_activity_at=now - timedelta(days=3))
    approval_request(
        tenant=people.tenant,
        action_type="budget_increase",
        title="Raise the budget",
        conversation=budget,
        auto_approve=False,
    )
    elsewhere = ConversationFactory(tenant=people.other_tenant)
    message_store(conversation=elsewhere, sender_kind="user", body="win-back budget at globex")
    return {"budget": budget, "chat": chat, "elsewhere": elsewhere}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json()
    body = response.json()
    rows = body["results"] if "results" in body else body["conversations"]
    return [row["id"] for row in rows]


def test_the_list_is_newest_first_and_masked(
    people: TenantPeople, planted: dict[str, Conversation]
) -> None:
    response = client(people.owner).get(BASE)
    assert ids(response) == [planted["budget"].pk, planted["chat"].pk]
    row = response.json()["results"][0]
    assert row["user"] == {
        "id": planted["budget"].user_id,
        "username": "leo",
        "phone": "+14155550102",
    }
    assert row["last_message"]["preview"] == (
        "Please raise the win-back budget; call me on +1-***-***-0102"
    )
    assert row["has_pending_approval"] is True and row["human_operator"] is None
    support_row = client(people.teammate).get(BASE).json()["results"][0]
    assert support_row["user"]["phone"] == "+1-***-***-0102"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "chat"}, ["chat"]),
        ({"agent_type": "seo_optimization"}, ["chat"]),
        ({"sentiment": "negative"}, ["chat"]),
        ({"priority": "high"}, ["budget"]),
        ({"pending_approval": "true"}, ["budget"]),
        ({"pending_approval": "false"}, ["chat"]),
        ({"action_type": "budget_increase"}, ["budget"]),
        ({"min_messages": 1, "max_messages": 1}, ["budget", "chat"]),
        ({"min_messages": 2}, []),
        ({"q": "win-back"}, ["budget"]),
        ({"q": "+14155550102"}, ["budget"]),
        ({"q": "rankings", "channel": "whatsapp"}, []),
        ({"q": "leo"}, ["budget"]),
    ],
)
def test_each_filter(
    people: TenantPeople,
    planted: dict[str, Conversation],
    query: dict[str, Any],
    expected: list[str],
) -> None:
    assert ids(client(people.teammate).get(BASE, query)) == [planted[n].pk for n in expected]


def test_the_date_range_keeps_what_was_active_in_it(
    people: TenantPeople, planted: dict[str, Conversation]
) -> None:
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(client(people.owner).get(BASE, {"date_from": since})) == [planted["budget"].pk]
    before = (timezone.now() - timedelta(days=10)).isoformat()
    assert ids(client(people.owner).get(BASE, {"date_to": before})) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"status": "sleeping"}, "status"),
        ({"user_id": "maya"}, "user_id"),
        ({"date_from": "last week"}, "date_from"),
        ({"min_messages": 5, "max_messages": 2}, "max_messages"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filters_are_a_400_naming_them(
    people: TenantPeople, query: dict[str, Any], field: str
) -> None:
    response = client(people.owner).get(BASE, query)
    assert response.status_code == 400 and field in response.json()["fields"]


def test_search_answers_the_prds_shape(
    people: TenantPeople, planted: dict[str, Conversation]
) -> None:
    response = client(people.teammate).post(
        f"{BASE}/search",
        {"query": "budget", "filters": {"channel": "whatsapp"}},
        format="json",
    )
    body = response.json()
    assert body["total"] == 1 and ids(response) == [planted["budget"].pk]
    assert body["query"] == "budget"
    assert body["filters_applied"] == {"channel": "whatsapp", "q": "budget"}
    assert "555 0102" not in str(body)
    bad = client(people.teammate).post(
        f"{BASE}/search", {"query": "x", "filters": {"channel": "fax"}}, format="json"
    )
    assert bad.status_code == 400 and "channel" in bad.json()["fields"]
    assert AdminAccessLog.objects.filter(action="search_conversations").count() == 1


def test_stats(people: TenantPeople, planted: dict[str, Conversation]) -> None:
    body = client(people.owner).get(f"{BASE}/stats").json()
    assert body["total"] == 2
    assert body["by_channel"] == {"whatsapp": 1, "chat": 1}
    assert body["with_pending_approval"] == 1 and body["held_by_humans"] == 0


def test_only_console_roles_and_only_their_tenant(
    people: TenantPeople, planted: dict[str, Conversation]
) -> None:
    member = StaffFactory(tenant=people.tenant, roles=[MEMBER])
    assert client(member).get(BASE).status_code == 403
    assert ids(client(people.outsider).get(BASE)) == [planted["elsewhere"].pk]
    assert client(people.outsider).get(f"{BASE}/{planted['budget'].pk}").status_code == 404
    assert APIClient().get(BASE).status_code == 401


def test_a_page_costs_the_same_queries_for_more_rows(people: TenantPeople) -> None:
    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client(people.owner).get(BASE, {"page_size": page_size}).status_code == 200
        return len(captured)

    for n in range(30):
        person = UserFactory(tenant=people.tenant)
        phone_number_add(user=person, number=f"+1415555{1000 + n}", verified=True)
        conversation = ConversationFactory(tenant=people.tenant, user=person)
        message_store(conversation=conversation, sender_kind="user", body=f"hello {n}")
    queries(1)  # the first call also loads the caller's permissions, once
    assert queries(5) == queries(25)


def test_a_search_counts_its_total_up_to_a_bound(
    people: TenantPeople, planted: dict[str, Conversation], monkeypatch: Any
) -> None:
    from monitoring import api

    for _ in range(2):
        conversation = ConversationFactory(tenant=people.tenant)
        message_store(conversation=conversation, sender_kind="user", body="budget again")
    search = client(people.teammate).post(f"{BASE}/search", {"query": "budget"}, format="json")
    assert (search.json()["total"], search.json()["total_exact"]) == (3, True)
    monkeypatch.setattr(api, "SEARCH_TOTAL_MAX", 2)
    search = client(people.teammate).post(f"{BASE}/search", {"query": "budget"}, format="json")
    body = search.json()
    assert (body["total"], body["total_exact"]) == (2, False)
    assert len(body["conversations"]) == 3
