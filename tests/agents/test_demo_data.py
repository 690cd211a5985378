"""`seed_demo`'s agents and marketing data: enough of it, consistent, with the situations the
agents are meant to spot, and the same after a second run."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Tenant, User
from agents.models import (
    AgentInstance,
    AgentRun,
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    Platform,
    SegmentDay,
)
from agents.types import WALKER_AGENT_TYPES
from channels_app.events import Event, EventKind

pytestmark = pytest.mark.django_db

MODELS = [
    Campaign,
    CampaignDay,
    KeywordRanking,
    PageTraffic,
    ContentItem,
    AudienceSegment,
    SegmentDay,
]


@pytest.fixture
def tenants() -> dict[str, Tenant]:
    call_command("seed_demo", verbosity=0)
    return {t.slug: t for t in Tenant.objects.filter(slug__in=["acme", "globex"])}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def last_week(tenant: Tenant) -> tuple[date, date]:
    end = CampaignDay.objects.for_tenant(tenant).aggregate(d=Max("date"))["d"]
    return end - timedelta(days=6), end


def week_stats(tenant: Tenant) -> list[Campaign]:
    """Active campaigns with their last 7 days of spend and revenue, the window the agents use."""
    start, end = last_week(tenant)
    window = Q(days__date__range=(start, end))
    return list(
        Campaign.objects.for_tenant(tenant)
        .filter(status=Campaign.Status.ACTIVE)
        .annotate(
            spend=Sum("days__spend", filter=window), revenue=Sum("days__revenue", filter=window)
        )
    )


def test_every_demo_tenant_has_sixty_days_of_each_kind_up_to_yesterday(
    tenants: dict[str, Tenant],
) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    for tenant in tenants.values():
        for queryset in (
            CampaignDay.objects.for_tenant(tenant),
            KeywordRanking.objects.for_tenant(tenant),
            PageTraffic.objects.for_tenant(tenant),
            SegmentDay.objects.for_tenant(tenant),
        ):
            span = queryset.aggregate(first=Min("date"), last=Max("date"))
            assert span == {"first": yesterday - timedelta(days=59), "last": yesterday}
            assert queryset.values("date").distinct().count() == 60


def test_acme_runs_more_campaigns_than_globex_on_all_four_platforms(
    tenants: dict[str, Tenant],
) -> None:
    per_platform = {
        slug: dict(
            Campaign.objects.for_tenant(t)
            .values_list("platform")
            .annotate(n=Count("id"))
            .order_by()
        )
        for slug, t in tenants.items()
    }
    assert set(per_platform["acme"]) == set(Platform.values)
    assert all(3 <= n <= 4 for n in per_platform["acme"].values())
    assert sum(per_platform["globex"].values()) < sum(per_platform["acme"].values())
    # Every active campaign has a row for each of the sixty days.
    active_days = (
        CampaignDay.objects.filter(campaign__status=Campaign.Status.ACTIVE)
        .values("campaign")
        .annotate(n=Count("id"))
    )
    assert {row["n"] for row in active_days} == {60}


def test_daily_figures_hang_together(tenants: dict[str, Tenant]) -> None:
    days = CampaignDay.objects.all()
    assert not days.filter(clicks__gt=F("impressions")).exists()
    assert not days.filter(conversions__gt=F("clicks")).exists()
    assert not days.filter(spend__lte=0).exists()
    assert not PageTraffic.objects.filter(organic_sessions__gt=F("sessions")).exists()
    # Revenue comes from conversions at a plausible order value.
    for row in days.filter(conversions__gt=0).values("revenue", "conversions"):
        assert Decimal("20") <= row["revenue"] / row["conversions"] <= Decimal("700")
    assert not days.filter(conversions=0, revenue__gt=0).exists()
    # Trends vary: not every campaign's ROAS moves the same way.
    assert len({c.spend for c in week_stats(tenants["acme"])}) > 5


def test_acme_has_a_budget_increase_a_pause_and_an_overspend_candidate(
    tenants: dict[str, Tenant],
) -> None:
    acme = tenants["acme"]
    campaigns = week_stats(acme)

    scale_up = [
        c.name
        for c in campaigns
        if c.revenue / c.spend >= c.target_roas * Decimal("1.2")
        and c.spend / 7 >= c.daily_budget * Decimal("0.9")
    ]
    losing = [c.name for c in campaigns if c.revenue / c.spend < 1]
    _, end = last_week(acme)
    over = list(
        CampaignDay.objects.for_tenant(acme)
        .filter(date=end, spend__gt=F("campaign__daily_budget"))
        .values_list("campaign__name", flat=True)
    )
    recent_over = CampaignDay.objects.for_tenant(acme).filter(
        campaign__name__in=over, date__gt=end - timedelta(days=5)
    )

    assert scale_up == ["Prospecting - Lookalike 1%"]
    assert losing == ["Spark Ads - Creator Reviews"]
    assert over == ["Shopping - All Products"]
    assert not recent_over.filter(spend__lte=F("campaign__daily_budget")).exists()
    # Globex, a different business, has its own pause candidate and no overspend.
    globex = tenants["globex"]
    assert [c.name for c in week_stats(globex) if c.revenue / c.spend < 1] == [
        "Awareness - Ops Memes"
    ]
    globex_end = last_week(globex)[1]
    assert not CampaignDay.objects.for_tenant(globex).filter(
        date=globex_end, spend__gt=F("campaign__daily_budget")
    )


def test_keywords_move_and_match_the_pages(tenants: dict[str, Tenant]) -> None:
    for tenant in tenants.values():
        rankings = KeywordRanking.objects.for_tenant(tenant)
        end = rankings.aggregate(d=Max("date"))["d"]
        now = dict(rankings.filter(date=end).values_list("keyword", "position"))
        before = dict(
            rankings.filter(date=end - timedelta(days=30)).values_list("keyword", "position")
        )
        assert 20 <= len(now) <= 40
        assert any(now[k] < before[k] for k in now), "some keywords climb"
        assert any(now[k] > before[k] for k in now), "some keywords fall"
        opportunities = rankings.filter(date=end, position__range=(4, 15), search_volume__gte=5000)
        assert opportunities.count() >= 3
        pages = set(PageTraffic.objects.for_tenant(tenant).values_list("url", flat=True))
        assert 10 <= len(pages) <= 20
        assert set(rankings.values_list("url", flat=True)) <= pages


def test_content_is_mostly_published_across_kinds_channels_and_topics(
    tenants: dict[str, Tenant],
) -> None:
    since = timezone.now() - timedelta(days=61)
    for tenant in tenants.values():
        items = ContentItem.objects.for_tenant(tenant)
        published = items.filter(status=ContentItem.Status.PUBLISHED)
        assert 30 <= items.count() <= 60
        assert published.count() >= items.count() * 0.8
        assert not published.filter(Q(published_at__lt=since) | Q(published_at__gt=timezone.now()))
        assert not published.filter(impressions=0).exists()
        assert items.filter(status=ContentItem.Status.DRAFT).exists()
        assert items.filter(status=ContentItem.Status.SCHEDULED).exists()
        assert items.values("kind").distinct().count() == len(ContentItem.Kind.values)
        assert items.values("channel").distinct().count() >= 4
        assert items.values("topic").distinct().count() >= 5


def test_segments_change_and_one_churn_risk_rises_past_30_percent(
    tenants: dict[str, Tenant],
) -> None:
    for tenant in tenants.values():
        days = SegmentDay.objects.for_tenant(tenant)
        end = days.aggregate(d=Max("date"))["d"]
        now = {d.segment_id: d for d in days.filter(date=end)}
        before = {d.segment_id: d for d in days.filter(date=end - timedelta(days=30))}
        assert 5 <= len(now) <= 8
        assert any(now[s].size != before[s].size for s in now)
        first = {d.segment_id: d for d in days.filter(date=end - timedelta(days=59))}
        rising = [s for s in now if first[s].churn_risk < Decimal("0.3") <= now[s].churn_risk]
        assert len(rising) == 1
        assert before[rising[0]].churn_risk < now[rising[0]].churn_risk
        assert not days.filter(Q(churn_risk__lt=0) | Q(churn_risk__gt=1)).exists()


def test_enabled_walker_agents_are_the_plans_limit_in_catalogue_order(
    tenants: dict[str, Tenant],
) -> None:
    for tenant in tenants.values():
        limit = tenant.limits.walker_agents
        walkers = AgentInstance.objects.filter(tenant=tenant, agent__counts_toward_limit=True)
        enabled = list(
            walkers.filter(enabled=True)
            .order_by("agent_id")
            .values_list("agent__agent_type", flat=True)
        )
        assert enabled == list(WALKER_AGENT_TYPES[:limit])
    assert tenants["acme"].limits.walker_agents == 4
    assert tenants["globex"].limits.walker_agents == 2


def test_a_second_run_creates_nothing_and_says_so(tenants: dict[str, Tenant]) -> None:
    before = counts()
    enabled = set(AgentInstance.objects.filter(enabled=True).values_list("pk", flat=True))
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert counts() == before
    assert set(AgentInstance.objects.filter(enabled=True).values_list("pk", flat=True)) == enabled
    text = out.getvalue()
    assert "Marketing data for acme ... ok (4 of 4 Walker agents on; created: nothing)" in text
    assert f"{before['CampaignDay']} campaign days" in text


def test_demo_has_run_history_behind_its_agent_replies() -> None:
    call_command("seed_demo", verbosity=0)
    admin = User.objects.get(username="admin")
    held = Event.objects.filter(tenant=admin.tenant, kind=EventKind.REPLY_HELD).count()
    runs = AgentRun.objects.filter(tenant=admin.tenant)
    assert runs.filter(needs_review=True).count() == held
    assert (
        runs.filter(status="error").count()
        == Event.objects.filter(tenant=admin.tenant, kind=EventKind.TURN_FAILED).count()
    )
    instance = AgentInstance.objects.get(tenant=admin.tenant, agent__agent_type="seo_optimization")
    client = APIClient()
    client.force_authenticate(admin)
    start = (timezone.localdate() - timedelta(days=40)).isoformat()
    body = client.get(f"/api/v1/ai-agents/walker/{instance.pk}/analytics?start={start}").json()
    assert body["volume"] == runs.filter(agent_type="seo_optimization").count() > 0
    assert body["p95_response_ms"] >= body["avg_response_ms"] > 0
