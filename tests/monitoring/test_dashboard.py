"""The admin index as the operations dashboard, the users page and a conversation's cost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.services import phone_number_add
from agents.models import AgentRun
from channels_app.models import Conversation
from monitoring.analytics.costs import conversation_cost
from monitoring.models import DailyRollup, RollupDay
from privacy.models import AdminAccessLog
from tests.conftest import TenantPeople
from tests.factories import (
    ApprovalFactory,
    ConversationFactory,
    DailyRollupFactory,
    MessageFactory,
    StaffFactory,
    UserFactory,
)
from tests.monitoring.test_analytics_api import NOW, TODAY, Period, histogram, plant_period

ADS, SEO = "paid_ads_optimization", "seo_optimization"


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def period(people: TenantPeople, frozen: None) -> Period:
    return plant_period(people.tenant, other=people.other_tenant)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def cards(response: Any) -> dict[str, Any]:
    return {card["key"]: card["value"] for card in response.context["dashboard"]["cards"]}


def test_the_index_is_the_dashboard_with_the_planted_figures(
    period: Period, people: TenantPeople
) -> None:
    response = admin_client(people.owner).get("/admin/?period=7")
    assert response.status_code == 200
    assert cards(response) == {
        "active_conversations": 1,
        "messages_last_hour": 2,
        "response_time": "786\xa0ms",  # 5500 ms over 7 replies
        "hitl_pending": 2,
        "csat": "4.50 / 5",
        "resolution_rate": "76.9%",  # 10 of 13 settled
        "conversations": "16",
        "cost": "$1.06",
    }
    html = response.content.decode()
    for chart in ("conversations", "share", "response", "approvals"):
        assert f'id="chart-{chart}"' in html
    assert 'data-type="doughnut"' in html
    assert "unfold/js/chart/chart.js" in html  # unfold's own Chart.js, no CDN
    assert "cdn" not in html.lower()
    table = response.context["dashboard"]["agents_table"]
    assert table["rows"][0][:6] == ["Paid Ads Marketing Agent", "11", "57", "4.50", 1, "75.0%"]
    assert table["rows"][1][:3] == ["SEO Agent", "5", "25"]
    assert 'id="app-list"' in html and "/admin/channels_app/conversation/" in html


def test_the_period_selector(period: Period, people: TenantPeople) -> None:
    client = admin_client(people.owner)
    assert cards(client.get("/admin/?period=30"))["conversations"] == "116"
    ninety = client.get("/admin/?period=90").context["dashboard"]
    assert ninety["period"] == 90
    assert [p["active"] for p in ninety["periods"]] == [False, False, True]
    assert client.get("/admin/?period=12").context["dashboard"]["period"] == 30
    assert client.get("/admin/").context["dashboard"]["period"] == 30


def test_a_platform_superuser_picks_the_tenant(period: Period, people: TenantPeople) -> None:
    root = User.objects.create_superuser("root", password="x" * 12)
    client = admin_client(root)
    first = client.get("/admin/?period=7").context["dashboard"]
    assert first["tenant"] == people.tenant  # Acme, first by name
    assert [t.slug for t in first["tenants"]] == ["acme", "globex"]
    globex = client.get("/admin/?period=7&tenant=globex")
    assert globex.context["dashboard"]["tenant"] == people.other_tenant
    assert cards(globex)["conversations"] == "999"
    assert 'id="tenant-picker"' in globex.content.decode()


def test_a_tenant_admin_cannot_pick_another_tenant(period: Period, people: TenantPeople) -> None:
    response = admin_client(people.outsider).get("/admin/?period=7&tenant=acme")
    assert response.context["dashboard"]["tenant"] == people.other_tenant
    assert cards(response)["conversations"] == "999"
    assert response.context["dashboard"]["tenants"] == []


def test_staff_without_the_console_role_keep_the_app_list(
    period: Period, people: TenantPeople
) -> None:
    # Staff without a console role (approvers land on their queue instead).
    staff = StaffFactory(tenant=people.tenant, roles=[])
    response = admin_client(staff).get("/admin/")
    assert response.status_code == 200
    assert "dashboard" not in response.context
    assert 'id="operations-dashboard"' not in response.content.decode()


def plant_rollups(tenant: Any, *, days: int, per_day: int) -> int:
    """`per_day` rows a day (channel x agent) for each of the `days` days before today, in a
    few inserts. How many rows."""
    combos = [
        (channel, agent)
        for channel in ("whatsapp", "chat", "email", "")
        for agent in (ADS, SEO, "content_generation", "audience_intelligence", "")
    ][:per_day]
    markers = RollupDay.objects.bulk_create(
        RollupDay(
            tenant=tenant,
            day=TODAY - timedelta(days=n),
            time_zone=tenant.time_zone,
            computed_at=NOW,
            replies_timed=2 * per_day,
            response_p50=500,
            response_p95=1000,
            response_p99=1000,
        )
        for n in range(1, days + 1)
    )
    rows = DailyRollup.objects.bulk_create(
        DailyRollup(
            rollup_day=marker,
            tenant=tenant,
            day=marker.day,
            channel=channel,
            agent_type=agent,
            conversations_started=3,
            messages_user=10,
            replies_timed=2,
            response_ms_sum=1500,
            response_ms_max=1000,
            response_histogram=histogram(500, 1000),
            agent_cost_usd=Decimal("0.01"),
        )
        for marker in markers
        for channel, agent in combos
    )
    return len(rows)


def plant_today(tenant: Any, *, conversations: int) -> None:
    person = UserFactory(tenant=tenant)
    for n in range(conversations):
        started = NOW - timedelta(minutes=5 + n)
        conv = ConversationFactory(tenant=tenant, user=person, started_at=started)
        MessageFactory(conversation=conv, created_at=started)
        MessageFactory(
            conversation=conv,
            direction="outbound",
            sender_kind="agent",
            agent_type=ADS,
            response_time_ms=400 + n,
            created_at=started + timedelta(seconds=1),
        )
        Conversation.objects.filter(pk=conv.pk).update(last_activity_at=started)
        AgentRun.objects.create(
            tenant=tenant, agent_type=ADS, backend="builtin", status="ok", latency_ms=400,
            conversation=conv, created_at=started,
        )  # fmt: skip
        ApprovalFactory(tenant=tenant, created_at=started)


def dashboard_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/?period=90").status_code == 200
    return len(queries)


def test_the_dashboards_queries_do_not_grow_with_the_data(
    people: TenantPeople, frozen: None
) -> None:
    few_rows = plant_rollups(people.tenant, days=9, per_day=2)
    plant_today(people.tenant, conversations=2)
    many_rows = plant_rollups(people.other_tenant, days=89, per_day=20)
    plant_today(people.other_tenant, conversations=20)
    assert many_rows >= 10 * few_rows
    few = dashboard_queries(admin_client(people.owner))
    many = dashboard_queries(admin_client(people.outsider))
    assert many == few
    assert few <= 30


def test_90_days_are_read_from_rollups(people: TenantPeople, frozen: None) -> None:
    """Every day of the period comes from its rollup (its speed is bench_dashboard's to
    measure: a timed test fails on a busy machine and proves nothing on a quiet one)."""
    assert plant_rollups(people.tenant, days=89, per_day=20) == 1780
    plant_today(people.tenant, conversations=10)
    response = admin_client(people.owner).get("/admin/?period=90")
    assert response.status_code == 200
    assert response.context["dashboard"]["period_info"]["missing_days"] == []


def test_a_conversations_cost(people: TenantPeople) -> None:
    conv = ConversationFactory(tenant=people.tenant)  # WhatsApp; acme is Professional
    MessageFactory(conversation=conv)
    MessageFactory(
        conversation=conv, direction="outbound", sender_kind="agent", delivery_status="read"
    )
    MessageFactory(
        conversation=conv, direction="outbound", sender_kind="agent", delivery_status="held"
    )
    MessageFactory(
        conversation=conv, direction="outbound", sender_kind="agent", delivery_status="failed"
    )
    for cost in ("0.012", "0.003"):
        AgentRun.objects.create(
            tenant=people.tenant, agent_type=ADS, backend="builtin", status="ok",
            latency_ms=1, conversation=conv, cost_usd=cost,
        )  # fmt: skip
    AgentRun.objects.create(
        tenant=people.tenant, agent_type=ADS, backend="builtin", status="ok", latency_ms=1,
        cost_usd="5",
    )  # fmt: skip
    cost = conversation_cost(conv)
    assert cost.agent_usd == Decimal("0.015")
    assert cost.whatsapp_messages == 2  # received, and read; not held, not failed
    assert cost.whatsapp_usd == Decimal("0.0090")
    assert cost.total_usd == Decimal("0.024")


ACTIVITY = "/admin/monitoring/useractivity/"


@pytest.fixture
def maya(people: TenantPeople) -> User:
    maya = UserFactory(tenant=people.tenant, username="maya", email="maya@acme.example")
    phone_number_add(user=maya, number="+14155550101", verified=True, primary=True)
    now = timezone.now()
    for channel, score, messages in (("whatsapp", 5, 6), ("whatsapp", 2, 4), ("chat", None, 3)):
        ConversationFactory(
            tenant=people.tenant, user=maya, channel=channel, csat_score=score,
            message_count=messages, last_activity_at=now - timedelta(hours=messages),
        )  # fmt: skip
    ApprovalFactory(tenant=people.tenant, requested_by=maya)
    ana = UserFactory(tenant=people.other_tenant, username="ana", email="ana@globex.example")
    ConversationFactory(tenant=people.other_tenant, user=ana)
    return maya


def activity_row(html: str, username: str) -> str:
    start = html.index(f">{username}<")
    return html[start : html.index("</tr>", start)]


def test_the_users_page_shows_each_persons_activity_masked(
    people: TenantPeople, maya: User
) -> None:
    response = admin_client(people.teammate).get(ACTIVITY)
    assert response.status_code == 200
    html = response.content.decode()
    row = activity_row(html, "maya")
    assert "+1-***-***-0101" in row and "m***@acme.example" in row
    assert "4155550101" not in html and "maya@acme.example" not in html
    assert "Chat, WhatsApp" in row and "3.5 (2)" in row
    maya_shown = next(p for p in response.context["cl"].result_list if p.username == "maya")
    figures = maya_shown.activity
    assert (figures["n"], figures["messages"], figures["approvals"]) == (3, 13, 1)
    assert (figures["rated"], figures["score"]) == (2, 7)
    assert ">ana<" not in html  # globex's person
    assert not AdminAccessLog.objects.exists()  # nothing personal was shown


def test_a_role_that_sees_pii_sees_it_whole_and_is_logged(people: TenantPeople, maya: User) -> None:
    response = admin_client(people.owner).get(ACTIVITY)
    row = activity_row(response.content.decode(), "maya")
    assert "+14155550101" in row and "maya@acme.example" in row
    logged = AdminAccessLog.objects.filter(action="view_user", pii_accessed=True)
    assert str(maya.pk) in set(logged.values_list("resource_id", flat=True))
    assert set(logged.values_list("tenant_id", flat=True)) == {people.tenant.pk}


def test_the_users_page_reads_a_page_in_a_fixed_number_of_queries(
    people: TenantPeople, maya: User
) -> None:
    client = admin_client(people.teammate)
    client.get(ACTIVITY)
    with CaptureQueriesContext(connection) as few:
        client.get(ACTIVITY)
    for n in range(15):
        person = UserFactory(tenant=people.tenant)
        ConversationFactory(tenant=people.tenant, user=person)
        phone_number_add(user=person, number=f"+1415555{n + 200:04d}", verified=True)
    with CaptureQueriesContext(connection) as many:
        client.get(ACTIVITY)
    assert len(many) == len(few)


def test_the_rollups_are_listed_per_tenant(people: TenantPeople) -> None:
    DailyRollupFactory(tenant=people.tenant, day=TODAY, conversations_started=7)
    DailyRollupFactory(tenant=people.other_tenant, day=TODAY, conversations_started=99)
    response = admin_client(people.teammate).get("/admin/monitoring/dailyrollup/")
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert [row.conversations_started for row in shown] == [7]
