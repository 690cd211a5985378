"""The analytics APIs: figures recomputed by hand from planted rollups and today's live rows,
the export, the agents' analytics, bad parameters, permissions and tenant isolation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.models import Tenant, User
from accounts.roles import MARKETING_MANAGER, MEMBER, READ_ONLY_ADMIN
from agents.models import AgentInstance
from channels_app.models import Conversation
from monitoring.analytics.histogram import EDGES_MS
from tests.conftest import TenantPeople
from tests.factories import (
    ApprovalFactory,
    ConversationFactory,
    DailyRollupFactory,
    MessageFactory,
    RollupDayFactory,
    StaffFactory,
    UserFactory,
)

BASE = "/api/v1/admin/analytics"
ADS, SEO = "paid_ads_optimization", "seo_optimization"
# Noon UTC: today's live rows are far from either end of the day.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def histogram(*values: int) -> list[int]:
    """Counts per bucket of EDGES_MS, counted here by hand from the edges."""
    counts = [0] * len(EDGES_MS)
    for value in values:
        index = max(i for i, edge in enumerate(EDGES_MS) if edge <= value)
        counts[index] += 1
    return counts


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@dataclass
class Period:
    tenant: Tenant
    live: Conversation


def plant_period(tenant: Tenant, *, other: Tenant | None = None) -> Period:
    """Seven days of acme: two rolled-up days with figures, empty rolled-up days, yesterday not
    rolled up (computed live: nothing), and today live: one WhatsApp conversation of the paid
    ads agent with a 700 ms reply, 10 minutes ago. A day outside the 7 days, and another
    tenant's row on a day inside."""
    RollupDayFactory(  # before its rows: they would create it without its percentiles
        tenant=tenant,
        day=TODAY - timedelta(days=3),
        replies_timed=4,
        response_p50=250,
        response_p95=1100,
        response_p99=1100,
    )
    DailyRollupFactory(
        tenant=tenant,
        day=TODAY - timedelta(days=3),
        channel="whatsapp",
        agent_type=ADS,
        conversations_started=10,
        conversations_active=12,
        conversations_settled=8,
        conversations_resolved=6,
        conversations_escalated=1,
        messages_user=30,
        messages_agent=25,
        replies_timed=4,
        response_ms_sum=150 + 250 + 250 + 1100,
        response_ms_max=1100,
        response_p50=250,
        response_p95=1100,
        response_p99=1100,
        response_histogram=histogram(150, 250, 250, 1100),
        csat_count=4,
        csat_sum=18,
        approvals_created=3,
        approvals_approved=2,
        approvals_rejected=1,
        decisions_timed=3,
        decision_seconds_sum=3 * 3600,
        sla_total=3,
        sla_met=2,
        runs=20,
        runs_reviewed=5,
        confidence_count=20,
        confidence_sum=15.0,
        agent_cost_usd=Decimal("0.50"),
        whatsapp_messages=55,
        whatsapp_price_usd=Decimal("0.0045"),
        whatsapp_cost_usd=Decimal("0.2475"),
    )
    DailyRollupFactory(
        tenant=tenant,
        day=TODAY - timedelta(days=2),
        channel="chat",
        agent_type=SEO,
        conversations_started=5,
        conversations_active=5,
        conversations_settled=5,
        conversations_resolved=4,
        conversations_escalated=1,
        messages_user=12,
        messages_agent=12,
        messages_human=1,
        replies_timed=2,
        response_ms_sum=450 + 2600,
        response_ms_max=2600,
        response_histogram=histogram(450, 2600),
        csat_count=2,
        csat_sum=9,
        runs=12,
        confidence_count=12,
        confidence_sum=10.8,
        agent_cost_usd=Decimal("0.30"),
    )
    for days in (6, 5, 4):
        RollupDayFactory(tenant=tenant, day=TODAY - timedelta(days=days))
    DailyRollupFactory(  # outside the 7 days, inside the 30
        tenant=tenant,
        day=TODAY - timedelta(days=10),
        conversations_started=100,
        conversations_settled=100,
        conversations_resolved=50,
        agent_cost_usd=Decimal("2.00"),
    )
    if other is not None:
        DailyRollupFactory(
            tenant=other,
            day=TODAY - timedelta(days=3),
            conversations_started=999,
            messages_user=999,
            csat_count=1,
            csat_sum=1,
            agent_cost_usd=Decimal("99"),
        )
    person = UserFactory(tenant=tenant)
    started = NOW - timedelta(minutes=10)
    live = ConversationFactory(
        tenant=tenant, user=person, current_agent_type=ADS, started_at=started
    )
    MessageFactory(conversation=live, created_at=started)
    MessageFactory(
        conversation=live,
        direction="outbound",
        sender_kind="agent",
        agent_type=ADS,
        response_time_ms=700,
        delivery_status="delivered",
        created_at=started + timedelta(seconds=1),
    )
    Conversation.objects.filter(pk=live.pk).update(last_activity_at=started + timedelta(seconds=1))
    # Open approvals filed long before the period: waiting now, not created in it.
    ApprovalFactory(tenant=tenant, created_at=NOW - timedelta(days=40))
    ApprovalFactory(tenant=tenant, created_at=NOW - timedelta(days=40), sla_breached=True)
    return Period(tenant=tenant, live=live)


@pytest.fixture
def period(people: TenantPeople, frozen: None) -> Period:
    return plant_period(people.tenant, other=people.other_tenant)


def test_the_dashboard_totals_are_the_planted_ones(period: Period, people: TenantPeople) -> None:
    response = client_for(people.owner).get(f"{BASE}/dashboard?period=7")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "days": 7,
        "start": str(TODAY - timedelta(days=6)),
        "end": str(TODAY),
        "time_zone": "UTC",
        "live_days": [str(TODAY - timedelta(days=1)), str(TODAY)],
        "missing_days": [],
    }
    totals = body["totals"]
    assert totals["conversations"] == 10 + 5 + 1
    assert totals["messages"] == (30 + 25) + (12 + 12 + 1) + 2
    assert totals["csat"] == 4.5  # (18 + 9) / (4 + 2)
    # Today's conversation is still going: in neither count.
    assert totals["conversations_settled"] == 13
    assert totals["resolution_rate"] == round(10 / 13, 4)
    assert totals["escalation_rate"] == round(2 / 13, 4)
    # Agents $0.80; WhatsApp $0.2475 + today's 2 messages at $0.0045.
    assert totals["agent_cost_usd"] == "0.800000"
    assert totals["whatsapp_messages"] == 55 + 2
    assert totals["whatsapp_cost_usd"] == "0.256500"
    assert totals["cost_usd"] == "1.056500"
    assert totals["cost_per_conversation_usd"] == "0.066031"  # 1.0565 / 16
    assert totals["hitl_rate"] == round(5 / 32, 4)
    assert totals["avg_confidence"] == round(25.8 / 32, 3)
    assert totals["active_conversations"] == 1

    # 150 250 250 450 700 1100 2600. p50 is the 4th, alone in 400-500 ms: placed mid-bucket.
    # p95 and p99 are the 7th, alone in 2500-3000 ms, which ends at the slowest reply, 2600.
    assert body["response_time"] == {
        "replies": 7,
        "avg_ms": round(5500 / 7),
        "p50": 450,
        "p95": 2550,
        "p99": 2550,
    }
    assert body["hitl"] == {
        "pending": 2,
        "breached": 1,
        "created": 3,
        "approved": 2,
        "rejected": 1,
        "expired": 0,
        "avg_decision_seconds": 3600,
        "sla_compliance": round(2 / 3, 4),
    }
    channels = {row["channel"]: row for row in body["by_channel"]}
    assert set(channels) == {"whatsapp", "chat"}
    assert channels["whatsapp"]["conversations"] == 11
    assert channels["whatsapp"]["share"] == round(11 / 16, 4)
    assert channels["chat"]["share"] == round(5 / 16, 4)


def test_the_daily_series_has_every_day_of_the_period(period: Period, people: TenantPeople) -> None:
    series = client_for(people.owner).get(f"{BASE}/dashboard?period=7").json()["series"]
    assert [point["date"] for point in series] == [
        str(TODAY - timedelta(days=n)) for n in range(6, -1, -1)
    ]
    assert [point["state"] for point in series] == ["rolled_up"] * 5 + ["live"] * 2
    three_ago = series[3]
    assert three_ago["conversations_by_channel"] == {"whatsapp": 10, "chat": 0}
    assert (three_ago["response_p50"], three_ago["response_p95"]) == (250, 1100)  # exact, kept
    assert three_ago["csat"] == 4.5
    assert three_ago["cost_usd"] == "0.747500"
    assert series[-1]["conversations_by_channel"] == {"whatsapp": 1, "chat": 0}
    assert series[-1]["response_p50"] == 700
    assert series[0]["conversations"] == 0 and series[0]["response_p50"] is None


def test_a_longer_period_takes_in_older_rollups(period: Period, people: TenantPeople) -> None:
    body = client_for(people.owner).get(f"{BASE}/dashboard?period=30").json()
    assert body["totals"]["conversations"] == 116
    assert body["totals"]["resolution_rate"] == round(60 / 113, 4)
    assert len(body["series"]) == 30
    # The first rolled-up day is 10 days ago: the days before are before the tenant's data;
    # the three after it never rolled up are counted as nothing, and said so.
    assert body["period"]["missing_days"] == [str(TODAY - timedelta(days=n)) for n in (9, 8, 7)]


def test_the_walker_agents_figures(period: Period, people: TenantPeople) -> None:
    body = client_for(people.owner).get(f"{BASE}/walker-agents?period=7").json()
    agents = {row["agent_type"]: row for row in body["agents"]}
    assert list(agents) == [ADS, SEO, "content_generation", "audience_intelligence"]
    ads = agents[ADS]
    assert (ads["conversations"], ads["messages"], ads["csat"]) == (11, 57, 4.5)
    assert (ads["active"], ads["resolution_rate"], ads["hitl_rate"]) == (1, 0.75, 0.25)
    assert ads["avg_confidence"] == 0.75
    assert ads["cost_usd"] == "0.756500"  # 0.50 + 0.2475 + 2 x 0.0045
    # 150 250 250 700 1100: p50 the 3rd, 2nd of two in 200-300 ms; p95 the 5th, in 1000-1250
    # ms, which ends at the slowest, 1100.
    assert ads["response_time"]["p50"] == 275
    assert ads["response_time"]["p95"] == 1050
    seo = agents[SEO]
    assert (seo["conversations"], seo["messages"], seo["active"]) == (5, 25, 0)
    assert (seo["resolution_rate"], seo["escalation_rate"]) == (0.8, 0.2)
    assert seo["cost_per_conversation_usd"] == "0.060000"
    assert agents["content_generation"]["conversations"] == 0
    assert agents["content_generation"]["csat"] is None


def test_realtime(period: Period, people: TenantPeople) -> None:
    body = client_for(people.owner).get(f"{BASE}/walker-agents/realtime").json()
    assert body["active_conversations"] == 1
    assert body["messages_last_hour"] == 2
    assert body["avg_response_time_ms"] == 700
    assert (body["hitl_pending_count"], body["hitl_breached_count"]) == (2, 1)
    assert datetime.fromisoformat(body["timestamp"]) >= NOW


def test_realtime_counts_only_the_last_15_minutes_and_hour(
    people: TenantPeople, frozen: None
) -> None:
    old = ConversationFactory(tenant=people.tenant)
    MessageFactory(conversation=old, created_at=NOW - timedelta(minutes=61))
    Conversation.objects.filter(pk=old.pk).update(last_activity_at=NOW - timedelta(minutes=16))
    body = client_for(people.owner).get(f"{BASE}/walker-agents/realtime").json()
    assert (body["active_conversations"], body["messages_last_hour"]) == (0, 0)
    assert body["avg_response_time_ms"] is None


def test_the_csv_export_streams_the_rows_with_their_cost(
    period: Period, people: TenantPeople
) -> None:
    start, end = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
    response = client_for(people.owner).get(
        f"{BASE}/export?format=csv&date_from={start}&date_to={end}"
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert (
        f"engarde_analytics_acme_{start:%Y%m%d}_{end:%Y%m%d}.csv"
        in (response["Content-Disposition"])
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["day"], r["channel"], r["agent_type"]) for r in rows] == [
        (str(start), "whatsapp", ADS),
        (str(end), "chat", SEO),
    ]
    first = rows[0]
    assert first["conversations_started"] == "10"
    assert first["csat_average"] == "4.5"
    assert first["cost_usd"] == "0.747500"
    assert first["cost_per_conversation_usd"] == "0.074750"
    assert rows[1]["csat_average"] == "4.5" and rows[1]["cost_usd"] == "0.300000"


def test_the_json_export_defaults_to_the_last_30_rolled_up_days(
    period: Period, people: TenantPeople
) -> None:
    response = client_for(people.owner).get(f"{BASE}/export?format=json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    rows = json.loads(b"".join(response.streaming_content))
    assert [row["day"] for row in rows] == [str(TODAY - timedelta(days=n)) for n in (10, 3, 2)]
    assert rows[1]["response_histogram"] == histogram(150, 250, 250, 1100)
    assert rows[0]["cost_usd"] == "2.000000"
    assert rows[1]["messages_user"] == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xml", "format"),
        ("date_from=2026-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("date_from=2026-05-02&date_to=2026-05-01", "date_from"),
        ("date_from=2020-01-01&date_to=2026-01-01", "date_from"),
    ],
)
def test_the_export_names_its_bad_parameters(people: TenantPeople, query: str, field: str) -> None:
    response = client_for(people.owner).get(f"{BASE}/export?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"]


@pytest.mark.parametrize("path", ["dashboard", "walker-agents"])
@pytest.mark.parametrize("value", ["8", "abc", "0", "-7", "7.5"])
def test_a_bad_period_is_named(people: TenantPeople, path: str, value: str) -> None:
    response = client_for(people.owner).get(f"{BASE}/{path}?period={value}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "period" in response.json()["fields"]


@pytest.mark.parametrize(
    "path", ["dashboard", "walker-agents", "walker-agents/realtime", "export?format=csv"]
)
def test_who_may_read_the_analytics(people: TenantPeople, path: str) -> None:
    assert APIClient().get(f"{BASE}/{path}").status_code == 401
    for role in (MEMBER, MARKETING_MANAGER):
        outsider_role = StaffFactory(tenant=people.tenant, roles=[role])
        response = client_for(outsider_role).get(f"{BASE}/{path}")
        assert response.status_code == 403
        assert response.json()["error"] == "permission_denied"
    root = User.objects.create_superuser("root", password="x" * 12)
    assert client_for(root).get(f"{BASE}/{path}").status_code == 403  # no tenant
    reader = StaffFactory(tenant=people.tenant, roles=[READ_ONLY_ADMIN])
    assert client_for(reader).get(f"{BASE}/{path}").status_code == 200
    assert client_for(people.teammate).get(f"{BASE}/{path}").status_code == 200


def test_another_tenant_sees_only_its_own(period: Period, people: TenantPeople) -> None:
    body = client_for(people.outsider).get(f"{BASE}/dashboard?period=7").json()
    assert body["totals"]["conversations"] == 999
    assert body["totals"]["csat"] == 1.0
    assert body["totals"]["active_conversations"] == 0
    assert body["hitl"]["pending"] == 0
    export = client_for(people.outsider).get(f"{BASE}/export?format=json")
    assert [
        row["conversations_started"] for row in json.loads(b"".join(export.streaming_content))
    ] == [999]
    acme = client_for(people.owner).get(f"{BASE}/dashboard?period=7").json()
    assert acme["totals"]["conversations"] == 16


def test_an_agents_analytics_carry_its_conversation_figures(
    period: Period, people: TenantPeople
) -> None:
    ads = AgentInstance.objects.get(tenant=people.tenant, agent__agent_type=ADS)
    start, end = TODAY - timedelta(days=7), TODAY
    body = (
        client_for(people.owner)
        .get(f"/api/v1/ai-agents/walker/{ads.pk}/analytics?start={start}&end={end}")
        .json()
    )
    assert (body["conversations"], body["messages"], body["csat"], body["csat_count"]) == (
        11,
        57,
        4.5,
        4,
    )
    assert (body["active"], body["resolution_rate"], body["escalation_rate"]) == (
        1,
        0.75,
        round(1 / 8, 4),
    )
    assert body["response_time"] == {
        "replies": 5,
        "avg_ms": round((1750 + 700) / 5),
        "p50": 275,
        "p95": 1050,
        "p99": 1050,
    }
    assert body["volume"] == 0  # the runs' own figures are still the AgentRun rows


def test_the_schema_documents_the_analytics(people: TenantPeople) -> None:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    for path in ("dashboard", "walker-agents", "walker-agents/realtime", "export"):
        operation = paths[f"/api/v1/admin/analytics/{path}"]["get"]
        assert {"200", "401", "403"} <= set(operation["responses"])
    assert "400" in paths["/api/v1/admin/analytics/export"]["get"]["responses"]
    assert {"text/csv", "application/json"} == set(
        paths["/api/v1/admin/analytics/export"]["get"]["responses"]["200"]["content"]
    )
    totals = schema.json()["components"]["schemas"]["Totals"]["properties"]
    assert {"conversations", "messages", "csat", "resolution_rate", "cost_usd"} <= set(totals)
