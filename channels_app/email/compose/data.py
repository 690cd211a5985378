"""The tenant's data, read once per batch (`tenant_brief_data`) and shared by every brief of that
tenant: each enabled agent's figures, as its own answers compute them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import ProposedAction
from agents.backends.builtin import audience, content, paid_ads, seo
from agents.backends.builtin.common import percent_change
from agents.models import AgentInstance, Campaign, ContentItem, KeywordRanking, SegmentDay
from agents.selectors import AdStats, Window
from agents.types import AgentType
from channels_app.email.compose.parts import BriefSection

TOP_SHOWN = 3
TRAFFIC_DAYS = 7


@dataclass
class PaidAdsData:
    day: date
    spent: Decimal
    budget: Decimal
    active: int
    overspent: list[tuple[Campaign, Decimal]]
    window: Window
    now: AdStats
    before: AdStats
    roas_change: Decimal | None
    daily: dict[date, AdStats]
    ranked: list[tuple[Campaign, AdStats]]
    proposals: list[ProposedAction]


@dataclass
class SeoData:
    day: date
    tracked: int
    gains: list[tuple[int, str, int, int]]  # (places gained, keyword, was, now), as seo.rankings
    drops: list[tuple[int, str, int, int]]
    pages: list[dict[str, Any]]
    pages_window: Window
    opportunities: list[KeywordRanking]
    organic: int
    organic_before: int
    traffic_window: Window


@dataclass
class ContentData:
    since: date
    items: list[ContentItem]
    top: list[tuple[ContentItem, Decimal]]
    rate: Decimal | None
    topics: list[tuple[str, Decimal, int]]
    proposals: list[ProposedAction]


@dataclass
class AudienceData:
    day: date
    compared_to: date
    rows: list[tuple[SegmentDay, SegmentDay | None]]  # now, 30 days earlier
    at_risk: list[tuple[SegmentDay, SegmentDay | None]]
    proposals: list[ProposedAction]


@dataclass
class TenantBriefData:
    tenant: Tenant
    instances: dict[str, AgentInstance]
    paid_ads: PaidAdsData | None = None
    seo: SeoData | None = None
    content: ContentData | None = None
    audience: AudienceData | None = None
    # A section says the same to every reader with the same minimum priority: built once, by
    # (section, minimum), and shared by the batch's briefs, which never change it.
    sections: dict[tuple[str, str], BriefSection] = field(default_factory=dict)

    def enabled(self, agent_type: str) -> bool:
        instance = self.instances.get(agent_type)
        return bool(instance and instance.enabled)

    @property
    def personal(self) -> AgentInstance | None:
        return self.instances.get(AgentType.PERSONAL)


def tenant_brief_data(tenant: Tenant) -> TenantBriefData:
    instances = {
        i.agent.agent_type: i
        for i in AgentInstance.objects.for_tenant(tenant).select_related("agent", "tenant")
    }
    data = TenantBriefData(tenant=tenant, instances=instances)
    if data.enabled(AgentType.PAID_ADS):
        data.paid_ads = _paid_ads_data(tenant)
    if data.enabled(AgentType.SEO):
        data.seo = _seo_data(tenant)
    if data.enabled(AgentType.CONTENT):
        data.content = _content_data(tenant)
    if data.enabled(AgentType.AUDIENCE):
        data.audience = _audience_data(tenant)
    return data


def _paid_ads_data(tenant: Tenant) -> PaidAdsData | None:
    end = selectors.latest_ad_day(tenant)
    if end is None:
        return None
    window = selectors.window_ending(end, paid_ads.WINDOW_DAYS)
    now = selectors.ad_stats(tenant=tenant, window=window)
    before = selectors.ad_stats(tenant=tenant, window=window.previous())
    listed = selectors.campaigns(tenant)
    by_campaign = selectors.ad_stats_by_campaign(tenant=tenant, window=window)
    spent_on = selectors.spend_on(tenant, end)
    # As the agent's pacing answer counts them: active campaigns, on the latest day.
    active = [c for c in listed if c.status == Campaign.Status.ACTIVE]
    spent = sum((spent_on.get(c.pk, Decimal("0")) for c in active), Decimal("0"))
    budget = sum((c.daily_budget for c in active), Decimal("0"))
    overspent = sorted(
        ((c, spent_on[c.pk]) for c in active if spent_on.get(c.pk, Decimal("0")) > c.daily_budget),
        key=lambda pair: (
            -(pair[1] / pair[0].daily_budget if pair[0].daily_budget else 0),
            pair[0].name,
        ),
    )
    ranked = sorted(
        ((c, by_campaign[c.pk]) for c in listed if c.pk in by_campaign),
        key=lambda pair: (-(pair[1].roas or Decimal("-1")), pair[0].name),
    )
    roas_change = (
        percent_change(now.roas, before.roas)
        if now.roas is not None and before.roas is not None
        else None
    )
    return PaidAdsData(
        day=end,
        spent=spent,
        budget=budget,
        active=len(active),
        overspent=overspent,
        window=window,
        now=now,
        before=before,
        roas_change=roas_change,
        daily=selectors.ad_stats_by_day(tenant=tenant, window=window),
        ranked=ranked,
        proposals=paid_ads.proposals(
            tenant, window, platform=None, campaign=None, computed=(listed, by_campaign)
        ),
    )


def _seo_data(tenant: Tenant) -> SeoData | None:
    end = selectors.latest_keyword_day(tenant)
    if end is None:
        return None
    moves = seo.rankings(tenant, "", None).figures
    positions = selectors.keyword_positions(tenant, end)
    top_pages = seo.top_pages(tenant, "", None)
    close = seo.opportunities(tenant, "", None).figures.get("opportunities", [])
    traffic = selectors.window_ending(end, TRAFFIC_DAYS)
    return SeoData(
        day=end,
        tracked=len(positions),
        gains=list(moves.get("gains", [])),
        drops=list(moves.get("drops", [])),
        pages=list(top_pages.figures.get("pages", []))[:TOP_SHOWN],
        pages_window=selectors.window_ending(end, seo.TRAFFIC_DAYS),
        opportunities=[positions[k] for k in close if k in positions][:TOP_SHOWN],
        organic=_organic(tenant, traffic),
        organic_before=_organic(tenant, traffic.previous()),
        traffic_window=traffic,
    )


def _organic(tenant: Tenant, window: Window) -> int:
    return sum(int(page["organic"] or 0) for page in selectors.page_sessions(tenant, window))


def _content_data(tenant: Tenant) -> ContentData | None:
    latest = selectors.latest_published_day(tenant)
    if latest is None:
        return None
    since = latest - timedelta(days=content.WINDOW_DAYS - 1)
    items = selectors.published_content(tenant, since=since)
    by_title = {item.title: item for item in items}
    top_titles = content.top_content(tenant, "").figures.get("top", [])
    top = [
        (by_title[title], content.engagement_rate([by_title[title]]) or Decimal("0"))
        for title in top_titles
        if title in by_title
    ]
    ideas = content.ideas(tenant, "")
    return ContentData(
        since=since,
        items=items,
        top=top,
        rate=content.engagement_rate(items),
        topics=list(ideas.figures.get("topics", [])),
        proposals=list(ideas.actions),
    )


def _audience_data(tenant: Tenant) -> AudienceData | None:
    end = selectors.latest_segment_day(tenant)
    if end is None:
        return None
    compared_to = end - timedelta(days=audience.COMPARE_DAYS)
    now = selectors.segments_on(tenant, end)
    before = selectors.segments_on(tenant, compared_to)
    rows = [
        (row, before.get(name))
        for name, row in sorted(now.items(), key=lambda item: (-item[1].size, item[0]))
    ]
    at_risk = sorted(
        (pair for pair in rows if pair[0].churn_risk >= audience.CHURN_ALERT),
        key=lambda pair: (-pair[0].churn_risk, pair[0].segment.name),
    )
    proposals = (
        list(audience.export(tenant, "", at_risk[0][0].segment.name).actions) if at_risk else []
    )
    return AudienceData(
        day=end, compared_to=compared_to, rows=rows, at_risk=at_risk, proposals=proposals
    )
