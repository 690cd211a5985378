"""On the demo data, each agent answers a typical question with figures that match the rows.

The expected figures are computed here from the rows, independently of agents.selectors, and
every number in an answer must be one of them (or a date or window of the answer).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Tenant, User
from agents.models import (
    AgentInstance,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    SegmentDay,
)

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
CENT, TENTH = Decimal("0.01"), Decimal("0.1")


def q(value: Decimal, step: Decimal) -> Decimal:
    return Decimal(value).quantize(step, ROUND_HALF_UP)


def numbers_in(text: str, tenant: Tenant) -> set[Decimal]:
    # Names, URLs, keywords and titles come from the data too; digits inside them are not claims.
    strings = [
        *Campaign.objects.for_tenant(tenant).values_list("name", flat=True),
        *KeywordRanking.objects.for_tenant(tenant).values_list("keyword", "url").distinct(),
        *PageTraffic.objects.for_tenant(tenant).values_list("url", flat=True).distinct(),
        *ContentItem.objects.for_tenant(tenant).values_list("title", "topic", "channel"),
        *SegmentDay.objects.for_tenant(tenant).values_list("segment__name", flat=True).distinct(),
    ]
    flat = sorted(
        {s for item in strings for s in (item if isinstance(item, tuple) else (item,)) if s},
        key=len,
        reverse=True,
    )
    for value in flat:
        text = text.replace(value, " ")
    return {Decimal(match.replace(",", "")) for match in NUMBER.findall(text)}


def date_numbers(*days: Any) -> set[Decimal]:
    return {Decimal(d.day) for d in days}


def execute(user: User, agent_type: str, question: str) -> dict[str, Any]:
    instance = AgentInstance.objects.get(tenant=user.tenant, agent__agent_type=agent_type)
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        f"/api/v1/ai-agents/walker/{instance.pk}/execute", {"input": question}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def acme_admin() -> User:
    call_command("seed_demo", verbosity=0)
    return User.objects.get(username="admin")


def ad_totals(rows: list[CampaignDay]) -> dict[str, Any]:
    spend = sum((r.spend for r in rows), Decimal(0))
    revenue = sum((r.revenue for r in rows), Decimal(0))
    conversions = sum(r.conversions for r in rows)
    return {
        "spend": spend,
        "revenue": revenue,
        "conversions": conversions,
        "impressions": sum(r.impressions for r in rows),
        "roas": q(revenue / spend, CENT) if spend else None,
        "cpa": q(spend / conversions, CENT) if conversions else None,
    }


def test_paid_ads_meta_performance_matches_the_rows(acme_admin: User) -> None:
    tenant = acme_admin.tenant
    rows = list(CampaignDay.objects.filter(campaign__tenant=tenant).select_related("campaign"))
    end = max(r.date for r in rows)
    start, prev_start = end - timedelta(days=6), end - timedelta(days=13)
    meta = [r for r in rows if r.campaign.platform == "meta"]
    week = ad_totals([r for r in meta if start <= r.date <= end])
    before = ad_totals([r for r in meta if prev_start <= r.date < start])
    change = q((week["roas"] - before["roas"]) * 100 / before["roas"], TENTH)

    body = execute(acme_admin, "paid_ads_optimization", "How's my Meta campaign performing?")
    text = body["text"]
    assert f"spend ${week['spend']:,.2f}" in text
    assert f"revenue ${week['revenue']:,.2f}" in text
    assert f"ROAS {week['roas']}x" in text
    assert f"from {before['roas']}x" in text and f"{abs(change)}%" in text
    assert body["confidence"] >= 0.6

    allowed = {week["spend"], week["revenue"], week["roas"], before["roas"], abs(change)}
    allowed |= {Decimal(week["conversions"]), week["cpa"], Decimal(7)}
    allowed |= date_numbers(start, end)
    per_campaign: dict[int, list[CampaignDay]] = defaultdict(list)
    for r in meta:
        if start <= r.date <= end:
            per_campaign[r.campaign_id].append(r)
    for campaign_rows in per_campaign.values():
        totals = ad_totals(campaign_rows)
        campaign = campaign_rows[0].campaign
        new_budget = q(campaign.daily_budget * Decimal("1.2"), Decimal(1))
        used = q(totals["spend"] / 7 / campaign.daily_budget * 100, Decimal(1))
        allowed |= {
            totals["roas"],
            totals["spend"],
            totals["revenue"],
            campaign.daily_budget,
            new_budget,
            campaign.target_roas,
            used,
        }
    assert numbers_in(text, tenant) <= allowed, numbers_in(text, tenant) - allowed


def test_paid_ads_proposes_a_budget_increase_with_cost_and_reach(acme_admin: User) -> None:
    body = execute(acme_admin, "paid_ads_optimization", "What should I optimize in my ads?")
    increases = [a for a in body["actions"] if a["action_type"] == "budget_increase"]
    assert increases, body["text"]
    action = increases[0]
    campaign = Campaign.objects.get(pk=action["data"]["campaign_id"], tenant=acme_admin.tenant)
    end = CampaignDay.objects.filter(campaign__tenant=acme_admin.tenant).latest("date").date
    week = ad_totals(list(campaign.days.filter(date__gt=end - timedelta(days=7))))
    assert week["roas"] >= campaign.target_roas * Decimal("1.2")
    new_budget = q(campaign.daily_budget * Decimal("1.2"), Decimal(1))
    assert Decimal(action["data"]["new_daily_budget"]) == new_budget
    assert Decimal(action["estimated_cost"]) == (new_budget - campaign.daily_budget) * 30
    extra = (new_budget - campaign.daily_budget) * 30
    assert action["estimated_reach"] == int(extra / (week["spend"] / week["impressions"]))


def test_seo_keyword_position_matches_the_rows(acme_admin: User) -> None:
    tenant = acme_admin.tenant
    end = KeywordRanking.objects.filter(tenant=tenant).latest("date").date
    row = KeywordRanking.objects.filter(tenant=tenant, date=end).order_by("-search_volume").first()
    before = KeywordRanking.objects.get(
        tenant=tenant, keyword=row.keyword, date=end - timedelta(days=7)
    )

    body = execute(acme_admin, "seo_optimization", f"Where do we rank for {row.keyword}?")
    text = body["text"]
    assert f"position {row.position}" in text
    assert f"it was {before.position}" in text
    assert f"{row.search_volume:,} searches" in text
    assert body["confidence"] >= 0.6
    allowed = {Decimal(row.position), Decimal(before.position), Decimal(row.search_volume)}
    allowed |= date_numbers(end, before.date)
    assert numbers_in(text, tenant) <= allowed


def test_content_top_performers_match_the_rows(acme_admin: User) -> None:
    tenant = acme_admin.tenant
    published = list(ContentItem.objects.filter(tenant=tenant, status="published"))
    latest = max(item.published_at for item in published).date()
    since = latest - timedelta(days=29)
    recent = [i for i in published if i.published_at.date() >= since]
    overall = q(
        Decimal(sum(i.engagements for i in recent)) * 100 / sum(i.impressions for i in recent),
        TENTH,
    )
    rates = {
        i.title: q(Decimal(i.engagements) * 100 / i.impressions, TENTH)
        for i in recent
        if i.impressions
    }
    top = sorted(rates.items(), key=lambda kv: (-kv[1], kv[0]))[:3]

    body = execute(acme_admin, "content_generation", "Which content performed best lately?")
    text = body["text"]
    assert f"{len(recent)} pieces published" in text
    assert f"{overall}% average engagement" in text
    for title, rate in top:
        assert title in text and f"{rate}%" in text
    allowed = {Decimal(len(recent)), overall, *rates.values()}
    allowed |= {Decimal(i.impressions) for i in recent} | date_numbers(since)
    assert numbers_in(text, tenant) <= allowed


def test_audience_churn_risk_matches_the_rows(acme_admin: User) -> None:
    tenant = acme_admin.tenant
    end = SegmentDay.objects.filter(segment__tenant=tenant).latest("date").date
    now = {d.segment.name: d for d in SegmentDay.objects.filter(segment__tenant=tenant, date=end)}
    old = {
        d.segment.name: d
        for d in SegmentDay.objects.filter(segment__tenant=tenant, date=end - timedelta(days=30))
    }
    at_risk = [d for d in now.values() if d.churn_risk >= Decimal("0.3")]
    assert at_risk, "the demo has a segment at risk"

    body = execute(acme_admin, "audience_intelligence", "Which segments are at risk of churning?")
    text = body["text"]
    allowed = {Decimal("30.0")}
    for row in at_risk:
        churn = q(row.churn_risk * 100, TENTH)
        assert f"{row.segment.name}: {churn}%" in text
        assert f"{row.size:,} people worth ${row.ltv:,.2f}" in text
        allowed |= {churn, Decimal(row.size), row.ltv}
        if row.segment.name in old:
            allowed.add(q(old[row.segment.name].churn_risk * 100, TENTH))
    assert numbers_in(text, tenant) <= allowed
    assert body["confidence"] >= 0.6


def test_answers_never_use_another_tenants_data(acme_admin: User) -> None:
    globex_admin = User.objects.get(username="globex_admin")
    names = {
        slug: set(Campaign.objects.filter(tenant__slug=slug).values_list("name", flat=True))
        for slug in ("acme", "globex")
    }
    only_acme = names["acme"] - names["globex"]  # both may run a "Search - Brand"
    text = execute(globex_admin, "paid_ads_optimization", "Rank my campaigns by ROAS")["text"]
    assert only_acme and not any(name in text for name in only_acme)
    assert any(name in text for name in names["globex"])
