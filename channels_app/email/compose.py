"""What a brief says: each section gathered from its Walker agent's data and rules, the action
items ranked, the subject. Nothing here renders or sends.

The figures come from `agents.selectors` and the built-in agents (their windows, thresholds,
ranking moves, proposals and formatting), so a brief and an agent's answer never disagree. The
tenant's part is read once (`tenant_brief_data`) and shared by every brief of that tenant in a
batch; a brief then adds only its reader's approvals, so its queries do not grow with the data.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse

from accounts.models import Tenant, User
from agents import selectors
from agents.backends.base import ProposedAction
from agents.backends.builtin import audience, content, paid_ads, seo
from agents.backends.builtin.common import (
    change,
    count,
    day,
    money,
    percent,
    percent_change,
    ratio,
)
from agents.models import AgentInstance, Campaign, ContentItem, KeywordRanking, SegmentDay
from agents.selectors import AdStats, Window
from agents.services import agent_execute
from agents.types import ActionType, AgentType, BackendKind
from channels_app.email.models import (
    PRIORITY_RANK,
    DigestFormat,
    EmailPreferences,
    Frequency,
    Priority,
    Section,
)
from hitl.models import Approval, HoldReason
from hitl.selectors import approvals_awaiting

logger = logging.getLogger(__name__)

SECTION_AGENTS = {
    Section.PAID_ADS: AgentType.PAID_ADS,
    Section.SEO: AgentType.SEO,
    Section.CONTENT: AgentType.CONTENT,
    Section.AUDIENCE: AgentType.AUDIENCE,
}
TOP_SHOWN = 3
MOVES_SHOWN = 5
APPROVALS_READ = 50
ACTIONS_SHOWN = 8
# Overspend alerts: at half again the daily budget it is urgent, not just high.
OVERSPEND_URGENT = Decimal("1.5")
# A keyword that fell this many places or more is worth a look today.
RANKING_DROP_ALERT = 5
# An approval waiting this long, or one a person asked a human for, is urgent.
APPROVAL_URGENT_AGE = timedelta(hours=24)
APPROVAL_HIGH_COST = Decimal("1000")
CHURN_URGENT = Decimal("0.500")
TRAFFIC_DAYS = 7


# What a brief is made of


@dataclass(frozen=True)
class Stat:
    label: str
    value: str  # formatted, with its unit or sign
    note: str = ""
    tone: str = "neutral"  # good, bad or neutral: the colour of the note


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]  # right-aligned columns

    @property
    def header(self) -> list[tuple[str, bool]]:
        return list(zip(self.columns, self.numeric, strict=True))

    @property
    def cells(self) -> list[list[tuple[str, bool]]]:
        return [list(zip(row, self.numeric, strict=True)) for row in self.rows]

    def as_text(self) -> str:
        """The table in plain text, columns padded, numbers aligned right."""
        widths = [
            max(len(cell) for cell in column)
            for column in zip(self.columns, *self.rows, strict=True)
        ]
        lines = [
            "  ".join(
                cell.rjust(width) if numeric else cell.ljust(width)
                for cell, width, numeric in zip(row, widths, self.numeric, strict=True)
            ).rstrip()
            for row in (self.columns, *self.rows)
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)


@dataclass(frozen=True)
class Alert:
    priority: str
    text: str


@dataclass
class BriefSection:
    key: str
    title: str
    agent: str
    stats: list[Stat] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the section as sentences
    notes: list[str] = field(default_factory=list)  # said under the figures, in every format
    empty: str = ""  # said instead, when the agent has no data yet


@dataclass(frozen=True)
class ActionItem:
    priority: str
    title: str
    description: str
    source: str  # "approval" or "recommendation"
    agent: str
    url: str
    label: str
    detail: str = ""  # cost, reach, age


@dataclass
class Brief:
    user_id: int
    recipient_name: str
    tenant_name: str
    brief_date: date
    cadence: str  # "Daily" or "Weekly"
    digest_format: str
    subject: str
    highlight: str
    summary: list[Stat]
    sections: list[BriefSection]
    action_items: list[ActionItem]
    more_actions: int  # items over the ones shown
    urgent_count: int
    prose: str = ""
    console_url: str = ""
    preferences_url: str = ""
    unsubscribe_url: str = ""

    @property
    def is_full(self) -> bool:
        return self.digest_format == DigestFormat.FULL

    @property
    def is_summary(self) -> bool:
        return self.digest_format == DigestFormat.SUMMARY

    @property
    def is_bullets(self) -> bool:
        return self.digest_format == DigestFormat.BULLET_POINTS

    def facts(self) -> dict[str, Any]:
        """The brief's content as data, for a flow that writes its prose."""
        return {
            "date": self.brief_date.isoformat(),
            "recipient": self.recipient_name,
            "workspace": self.tenant_name,
            "highlight": self.highlight,
            "at_a_glance": [
                {"label": s.label, "value": s.value, "note": s.note} for s in self.summary
            ],
            "sections": [
                {
                    "section": s.key,
                    "statements": s.lines,
                    "alerts": [{"priority": a.priority, "text": a.text} for a in s.alerts],
                }
                for s in self.sections
            ],
            "action_items": [
                {"priority": a.priority, "title": a.title, "description": a.description}
                for a in self.action_items
            ],
        }


# The tenant's data, read once per batch


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


# Priorities


def at_least(priority: str, minimum: str) -> bool:
    return PRIORITY_RANK[Priority(priority)] >= PRIORITY_RANK[Priority(minimum)]


def recommendation_priority(action: ProposedAction) -> str:
    """How soon an agent's proposal deserves attention: money being lost first."""
    if action.action_type == ActionType.CAMPAIGN_PAUSE:
        return Priority.HIGH
    if action.action_type == ActionType.DATA_EXPORT:
        churn = Decimal(str(action.rationale.get("churn_risk", "0")))
        return Priority.HIGH if churn >= CHURN_URGENT else Priority.MEDIUM
    if action.action_type == ActionType.CONTENT_PUBLISH:
        return Priority.LOW
    return Priority.MEDIUM


def approval_priority(approval: Approval, now: datetime) -> str:
    """By what the hold says: a person waiting for a human or a day-old request is urgent; an
    action with money or data at stake is high; a reply held for low confidence is medium."""
    reasons = set(approval.hold_reasons or [])
    if HoldReason.HUMAN_REQUESTED in reasons or now - approval.created_at >= APPROVAL_URGENT_AGE:
        return Priority.URGENT
    if (
        reasons & {HoldReason.ACTION, HoldReason.AGENT_ERROR}
        or (approval.estimated_cost or Decimal("0")) >= APPROVAL_HIGH_COST
    ):
        return Priority.HIGH
    return Priority.MEDIUM


# Sections


def _tone(value: Decimal | None, *, higher_is_better: bool = True) -> str:
    if value is None or value == 0:
        return "neutral"
    return "good" if (value > 0) == higher_is_better else "bad"


def _share(part: Decimal, whole: Decimal) -> str:
    return percent(part * 100 / whole) if whole else "n/a"


def _signed(places: int) -> str:
    return f"+{places}" if places > 0 else str(places)


def paid_ads_section(data: PaidAdsData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.PAID_ADS, "Paid ads", AgentType.PAID_ADS.label)
    if data is None:
        section.empty = "No ad campaign data yet: import it and the Paid Ads agent reports here."
        return section
    window = f"{day(data.window.start)} to {day(data.window.end)}"
    section.stats = [
        Stat(
            f"Spend on {day(data.day)}",
            money(data.spent),
            f"of {money(data.budget)} budget, {_share(data.spent, data.budget)}",
            "bad" if data.spent > data.budget else "neutral",
        ),
        Stat(
            "ROAS, last 7 days",
            ratio(data.now.roas),
            f"{change(data.roas_change)} vs {ratio(data.before.roas)} the week before"
            if data.roas_change is not None
            else "",
            _tone(data.roas_change),
        ),
        Stat("Revenue, last 7 days", money(data.now.revenue), f"on {money(data.now.spend)} spend"),
        Stat(
            "Conversions, last 7 days",
            count(data.now.conversions),
            f"{money(data.now.cpa)} each" if data.now.cpa is not None else "",
        ),
    ]
    section.lines.append(
        f"Spent {money(data.spent)} of {money(data.budget)} budgeted on {day(data.day)} across "
        f"{count(data.active)} active campaigns."
    )
    if data.roas_change is not None:
        direction = "up" if data.roas_change > 0 else "down" if data.roas_change < 0 else "flat"
        section.lines.append(
            f"ROAS {ratio(data.now.roas)} over {window}, {direction} from "
            f"{ratio(data.before.roas)} ({change(data.roas_change)})."
        )
    elif data.now.spend:
        section.lines.append(f"ROAS {ratio(data.now.roas)} over {window}.")
    top = [pair for pair in data.ranked if pair[1].roas is not None][:TOP_SHOWN]
    if top:
        section.lines.append(
            "Top campaigns: " + "; ".join(f"{c.name} at {ratio(s.roas)}" for c, s in top) + "."
        )
    section.tables = [
        Table(
            f"ROAS by day, {window}",
            ("Day", "Spend", "Revenue", "ROAS"),
            tuple(
                (day(d), money(s.spend), money(s.revenue), ratio(s.roas))
                for d, s in data.daily.items()
            ),
            (False, True, True, True),
        ),
        Table(
            "Top campaigns, last 7 days",
            ("Campaign", "Platform", "Spend", "ROAS", "Target"),
            tuple(
                (
                    c.name,
                    c.get_platform_display(),
                    money(s.spend),
                    ratio(s.roas),
                    ratio(c.target_roas),
                )
                for c, s in top
            ),
            (False, False, True, True, True),
        ),
    ]
    alerts = [
        Alert(
            Priority.URGENT if spent >= c.daily_budget * OVERSPEND_URGENT else Priority.HIGH,
            f"{c.name} spent {money(spent)} of its {money(c.daily_budget)} daily budget on "
            f"{day(data.day)} ({_share(spent, c.daily_budget)} of budget).",
        )
        for c, spent in data.overspent
    ]
    for c, s in data.ranked:
        if c.status != Campaign.Status.ACTIVE or s.roas is None or s.roas >= c.target_roas:
            continue
        losing = s.roas < paid_ads.PAUSE_BELOW_ROAS
        alerts.append(
            Alert(
                Priority.HIGH if losing else Priority.MEDIUM,
                f"{c.name}: ROAS {ratio(s.roas)} over the last 7 days, under its "
                f"{ratio(c.target_roas)} target"
                + (f"; it returned {money(s.revenue)} on {money(s.spend)}." if losing else "."),
            )
        )
    section.alerts = _ranked_alerts(alerts, minimum)
    return section


def seo_section(data: SeoData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.SEO, "SEO & organic", AgentType.SEO.label)
    if data is None:
        section.empty = "No keyword rankings yet: import them and the SEO agent reports here."
        return section
    traffic = percent_change(Decimal(data.organic), Decimal(data.organic_before))
    compared = data.day - timedelta(days=seo.COMPARE_DAYS)
    section.stats = [
        Stat("Keywords tracked", count(data.tracked), f"on {day(data.day)}"),
        Stat(
            "Organic sessions, last 7 days",
            count(data.organic),
            f"{change(traffic)} vs the week before" if traffic is not None else "",
            _tone(traffic),
        ),
        Stat(
            "Moved up",
            count(len(data.gains)),
            f"since {day(compared)}",
            "good" if data.gains else "neutral",
        ),
        Stat(
            "Moved down",
            count(len(data.drops)),
            f"since {day(compared)}",
            "bad" if data.drops else "neutral",
        ),
    ]
    section.lines.append(
        f"{count(data.tracked)} keywords tracked on {day(data.day)}; organic sessions "
        f"{count(data.organic)} over the last 7 days"
        + (f" ({change(traffic)})." if traffic is not None else ".")
    )
    if data.gains:
        section.lines.append(
            "Biggest gains: "
            + "; ".join(f"'{k}' {old} to {new}" for _, k, old, new in data.gains)
            + "."
        )
    if data.drops:
        section.lines.append(
            "Biggest drops: "
            + "; ".join(f"'{k}' {old} to {new}" for _, k, old, new in data.drops)
            + "."
        )
    if data.opportunities:
        section.lines.append(
            "Opportunities: "
            + "; ".join(
                f"'{r.keyword}' at position {r.position}, {count(r.search_volume)} searches a month"
                for r in data.opportunities
            )
            + "."
        )
    moves = [*data.gains, *data.drops]
    section.tables = [
        Table(
            f"Ranking moves since {day(compared)}",
            ("Keyword", "Was", "Now", "Places"),
            tuple((k, str(old), str(new), _signed(moved)) for moved, k, old, new in moves),
            (False, True, True, True),
        ),
        Table(
            f"Top pages, {day(data.pages_window.start)} to {day(data.pages_window.end)}",
            ("Page", "Organic sessions", "Sessions", "Conversions"),
            tuple(
                (str(p["url"]), count(p["organic"]), count(p["sessions"]), count(p["conversions"]))
                for p in data.pages
            ),
            (False, True, True, True),
        ),
        Table(
            "Keywords close to the top",
            ("Keyword", "Position", "Searches a month"),
            tuple((r.keyword, str(r.position), count(r.search_volume)) for r in data.opportunities),
            (False, True, True),
        ),
    ]
    section.alerts = _ranked_alerts(
        [
            Alert(
                Priority.MEDIUM,
                f"'{k}' fell from position {old} to {new} since {day(compared)}.",
            )
            for moved, k, old, new in data.drops
            if -moved >= RANKING_DROP_ALERT
        ],
        minimum,
    )
    return section


def content_section(data: ContentData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.CONTENT, "Content", AgentType.CONTENT.label)
    if data is None:
        section.empty = "No published content yet: import it and the Content agent reports here."
        return section
    impressions = sum(item.impressions for item in data.items)
    clicks = sum(item.clicks for item in data.items)
    section.stats = [
        Stat("Published", count(len(data.items)), f"since {day(data.since)}"),
        Stat("Engagement rate", percent(data.rate) if data.rate is not None else "n/a"),
        Stat("Impressions", count(impressions), f"since {day(data.since)}"),
        Stat("Clicks", count(clicks), f"since {day(data.since)}"),
    ]
    section.lines.append(
        f"{count(len(data.items))} pieces published since {day(data.since)}: "
        f"{count(impressions)} impressions, {count(clicks)} clicks"
        + (f", {percent(data.rate)} engagement." if data.rate is not None else ".")
    )
    if data.top:
        section.lines.append(
            "Top posts: "
            + "; ".join(f"{item.title} at {percent(rate)}" for item, rate in data.top)
            + "."
        )
    if data.topics:
        best, rate, _ = data.topics[0]
        idea = (
            f"Ideas for today: more on {best}, your best topic at {percent(rate)} engagement; "
            "a how-to article or a short video answering its top question."
        )
        section.lines.append(idea)
        section.notes.append(idea)
    section.tables = [
        Table(
            "Top posts",
            ("Title", "Format", "Channel", "Impressions", "Engagement"),
            tuple(
                (
                    item.title,
                    item.get_kind_display(),
                    item.channel,
                    count(item.impressions),
                    percent(rate),
                )
                for item, rate in data.top
            ),
            (False, False, False, True, True),
        ),
        Table(
            "Best topics",
            ("Topic", "Engagement", "Pieces"),
            tuple((topic, percent(rate), count(n)) for topic, rate, n in data.topics),
            (False, True, True),
        ),
    ]
    return section


def audience_section(data: AudienceData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.AUDIENCE, "Audience", AgentType.AUDIENCE.label)
    if data is None:
        section.empty = "No audience segments yet: import them and the Audience agent reports here."
        return section
    people = sum(row.size for row, _ in data.rows)
    section.stats = [
        Stat("Segments", count(len(data.rows)), f"on {day(data.day)}"),
        Stat("People", count(people)),
        Stat(
            "At churn risk",
            count(len(data.at_risk)),
            f"segments above {percent(audience.CHURN_ALERT * 100)}",
            "bad" if data.at_risk else "neutral",
        ),
    ]

    def growth(row: SegmentDay, old: SegmentDay | None) -> Decimal | None:
        return percent_change(Decimal(row.size), Decimal(old.size)) if old else None

    changes = [
        f"{row.segment.name} {change(g)}"
        for row, old in data.rows
        if (g := growth(row, old)) is not None and g != 0
    ]
    section.lines.append(
        f"{count(len(data.rows))} segments, {count(people)} people on {day(data.day)}"
        + (f"; since {day(data.compared_to)}: {', '.join(changes)}." if changes else ".")
    )
    section.tables = [
        Table(
            f"Segments on {day(data.day)}",
            ("Segment", "People", f"Since {day(data.compared_to)}", "Churn risk", "LTV"),
            tuple(
                (
                    row.segment.name,
                    count(row.size),
                    change(g) if (g := growth(row, old)) is not None else "new",
                    percent(row.churn_risk * 100),
                    money(row.ltv),
                )
                for row, old in data.rows
            ),
            (False, True, True, True, True),
        )
    ]
    alerts = []
    for row, old in data.at_risk:
        trend = (
            f", up from {percent(old.churn_risk * 100)}"
            if old and old.churn_risk < row.churn_risk
            else ""
        )
        alerts.append(
            Alert(
                Priority.URGENT if row.churn_risk >= CHURN_URGENT else Priority.HIGH,
                f"{row.segment.name}: churn risk {percent(row.churn_risk * 100)}{trend}; "
                f"{count(row.size)} people worth {money(row.ltv)} each.",
            )
        )
    section.alerts = _ranked_alerts(alerts, minimum)
    return section


def _ranked_alerts(alerts: list[Alert], minimum: str) -> list[Alert]:
    kept = [a for a in alerts if at_least(a.priority, minimum)]
    return sorted(kept, key=lambda a: -PRIORITY_RANK[Priority(a.priority)])


# Action items


def _admin_url(base: str, name: str, pk: Any) -> str:
    try:
        return base + reverse(f"admin:{name}_change", args=[pk])
    except NoReverseMatch:
        return base + reverse("admin:index")


ACTION_TARGETS = {
    ActionType.BUDGET_INCREASE: ("agents_campaign", "campaign_id", "Review budget"),
    ActionType.BUDGET_ALLOCATION: ("agents_campaign", "campaign_id", "Review budget"),
    ActionType.CAMPAIGN_PAUSE: ("agents_campaign", "campaign_id", "Review campaign"),
    ActionType.CONTENT_PUBLISH: ("agents_contentitem", "content_id", "Review post"),
    ActionType.DATA_EXPORT: ("agents_audiencesegment", "segment_id", "Review segment"),
}
SECTION_OF_ACTION = {
    ActionType.BUDGET_INCREASE: Section.PAID_ADS,
    ActionType.BUDGET_ALLOCATION: Section.PAID_ADS,
    ActionType.CAMPAIGN_PAUSE: Section.PAID_ADS,
    ActionType.CONTENT_PUBLISH: Section.CONTENT,
    ActionType.DATA_EXPORT: Section.AUDIENCE,
}


def _recommendation(action: ProposedAction, agent: str, base: str) -> ActionItem:
    target = ACTION_TARGETS.get(action.action_type)
    if target is None:
        url, label = base + reverse("admin:index"), "Open the console"
    else:
        name, key, label = target
        url = _admin_url(base, name, action.data.get(key))
    detail = []
    if action.estimated_cost:
        detail.append(f"est. {money(action.estimated_cost)} a month")
    if action.estimated_reach:
        detail.append(f"reach {count(action.estimated_reach)}")
    return ActionItem(
        priority=recommendation_priority(action),
        title=action.title,
        description=action.description,
        source="recommendation",
        agent=agent,
        url=url,
        label=label,
        detail=", ".join(detail),
    )


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "waiting under an hour"
    if hours < 48:
        return f"waiting {hours} h"
    return f"waiting {hours // 24} days"


APPROVAL_TITLES = {
    "held_reply": "Review a held reply",
    ActionType.BUDGET_INCREASE: "Approve a budget increase",
    ActionType.BUDGET_ALLOCATION: "Approve a budget allocation",
    ActionType.CAMPAIGN_PAUSE: "Approve pausing a campaign",
    ActionType.CAMPAIGN_DELETE: "Approve deleting a campaign",
    ActionType.CONTENT_PUBLISH: "Approve publishing content",
    ActionType.DATA_EXPORT: "Approve a data export",
}


def _approval_item(approval: Approval, now: datetime, base: str) -> ActionItem:
    reasons = [
        str(HoldReason(r).label) for r in approval.hold_reasons or [] if r in HoldReason.values
    ]
    detail = [_age(now - approval.created_at)]
    if approval.estimated_cost:
        detail.append(f"est. {money(approval.estimated_cost)}")
    agent = (
        AgentType(approval.requested_by_agent).label
        if approval.requested_by_agent in AgentType.values
        else "Walker agents"
    )
    return ActionItem(
        priority=approval_priority(approval, now),
        title=APPROVAL_TITLES.get(approval.action_type, f"Approve: {approval.action_type}"),
        description="; ".join(reasons) + "." if reasons else "Waiting for your decision.",
        source="approval",
        agent=str(agent),
        url=_admin_url(base, "hitl_approval", approval.pk),
        label="Review and decide",
        detail=", ".join(detail),
    )


def user_approvals(user: User) -> tuple[list[Approval], int]:
    """The oldest pending approvals the user may decide, and how many there are in all."""
    queryset = approvals_awaiting(user).order_by("created_at", "id")
    shown = list(queryset[: APPROVALS_READ + 1])
    total = len(shown) if len(shown) <= APPROVALS_READ else queryset.count()
    return shown[:APPROVALS_READ], total


def action_items(
    *,
    data: TenantBriefData,
    sections: set[str],
    approvals: list[Approval],
    approvals_total: int,
    minimum: str,
    now: datetime,
    base: str,
) -> tuple[list[ActionItem], int]:
    """Ranked by priority, then approvals before recommendations, then the oldest approval or the
    costliest recommendation first; what the minimum priority filters out is never counted."""
    items = [_approval_item(a, now, base) for a in approvals]
    for source, agent_type in (
        (data.paid_ads, AgentType.PAID_ADS),
        (data.content, AgentType.CONTENT),
        (data.audience, AgentType.AUDIENCE),
    ):
        if source is None:
            continue
        for action in source.proposals:
            if SECTION_OF_ACTION.get(action.action_type) in sections:
                items.append(_recommendation(action, str(agent_type.label), base))
    kept = [item for item in items if at_least(item.priority, minimum)]
    kept.sort(key=lambda item: (-PRIORITY_RANK[Priority(item.priority)], item.source != "approval"))
    # Approvals beyond those read are never low priority: counted unless the reader only wants
    # high or urgent items, which cannot be told apart without reading them.
    unread = approvals_total - len(approvals) if at_least(Priority.MEDIUM, minimum) else 0
    return kept[:ACTIONS_SHOWN], len(kept) - len(kept[:ACTIONS_SHOWN]) + unread


# The brief


@dataclass(frozen=True)
class Links:
    console: str
    preferences: str
    unsubscribe: str


def brief_compose(
    *,
    preferences: EmailPreferences,
    brief_date: date,
    data: TenantBriefData,
    now: datetime,
    links: Links,
    base: str,
) -> Brief:
    user = preferences.user
    minimum = preferences.min_priority
    wanted = set(preferences.sections)
    builders = {
        Section.PAID_ADS: lambda: paid_ads_section(data.paid_ads, minimum),
        Section.SEO: lambda: seo_section(data.seo, minimum),
        Section.CONTENT: lambda: content_section(data.content, minimum),
        Section.AUDIENCE: lambda: audience_section(data.audience, minimum),
    }
    # A section comes from its Walker agent: one the workspace has not enabled says nothing.
    sections = [
        build()
        for key, build in builders.items()
        if key in wanted and data.enabled(SECTION_AGENTS[key])
    ]
    items: list[ActionItem] = []
    more = 0
    if Section.ACTION_ITEMS in wanted:
        approvals, total = user_approvals(user)
        items, more = action_items(
            data=data,
            sections=wanted,
            approvals=approvals,
            approvals_total=total,
            minimum=minimum,
            now=now,
            base=base,
        )
    urgent = sum(1 for item in items if item.priority == Priority.URGENT) + sum(
        1 for s in sections for a in s.alerts if a.priority == Priority.URGENT
    )
    summary = _at_a_glance(data, wanted, items, more)
    highlight = _highlight(data, wanted, urgent)
    cadence = "Weekly" if preferences.frequency == Frequency.WEEKLY else "Daily"
    subject = f"Your En Garde {cadence} Brief - {day(brief_date)}"
    if highlight:
        subject += f" | {highlight}"
    return Brief(
        user_id=user.pk,
        recipient_name=user.first_name or user.username,
        tenant_name=data.tenant.name,
        brief_date=brief_date,
        cadence=cadence,
        digest_format=preferences.digest_format,
        subject=subject,
        highlight=highlight,
        summary=summary,
        sections=sections,
        action_items=items,
        more_actions=more,
        urgent_count=urgent,
        console_url=links.console,
        preferences_url=links.preferences,
        unsubscribe_url=links.unsubscribe,
    )


def _at_a_glance(
    data: TenantBriefData, wanted: set[str], items: list[ActionItem], more: int
) -> list[Stat]:
    stats = []
    ads = data.paid_ads if Section.PAID_ADS in wanted and data.enabled(AgentType.PAID_ADS) else None
    if ads is not None:
        stats.append(
            Stat(
                "ROAS",
                ratio(ads.now.roas),
                change(ads.roas_change) if ads.roas_change is not None else "",
                _tone(ads.roas_change),
            )
        )
    organic = data.seo if Section.SEO in wanted and data.enabled(AgentType.SEO) else None
    if organic is not None:
        traffic = percent_change(Decimal(organic.organic), Decimal(organic.organic_before))
        stats.append(
            Stat(
                "Organic sessions",
                count(organic.organic),
                change(traffic) if traffic is not None else "",
                _tone(traffic),
            )
        )
    if ads is not None:
        stats.append(Stat("Conversions", count(ads.now.conversions), "last 7 days"))
    if Section.ACTION_ITEMS in wanted:
        waiting = len(items) + more
        stats.append(
            Stat("Need your attention", count(waiting), "items", "bad" if waiting else "neutral")
        )
    return stats


def _highlight(data: TenantBriefData, wanted: set[str], urgent: int) -> str:
    """The subject's key highlight (PRD): the urgent items when there are any, else the biggest
    move in ROAS or organic traffic."""
    if urgent:
        return f"{urgent} urgent item{'s need' if urgent != 1 else ' needs'} review"
    ads = data.paid_ads if Section.PAID_ADS in wanted and data.enabled(AgentType.PAID_ADS) else None
    if ads is not None and ads.roas_change:
        whole = abs(ads.roas_change).quantize(Decimal("1"), ROUND_HALF_UP)
        if whole:
            return f"ROAS {'up' if ads.roas_change > 0 else 'down'} {whole}%"
    organic = data.seo if Section.SEO in wanted and data.enabled(AgentType.SEO) else None
    if organic is not None:
        traffic = percent_change(Decimal(organic.organic), Decimal(organic.organic_before))
        if traffic:
            whole = abs(traffic).quantize(Decimal("1"), ROUND_HALF_UP)
            if whole:
                return f"Organic traffic {'up' if traffic > 0 else 'down'} {whole}%"
    return ""


# Prose from a Langflow flow

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> set[Decimal]:
    return {Decimal(match.replace(",", "")) for match in NUMBER.findall(text)}


def prose_wanted(data: TenantBriefData) -> bool:
    """Whether the personal agent runs on a Langflow flow, which then writes the brief's prose."""
    instance = data.personal
    return bool(instance and instance.enabled and instance.backend == BackendKind.LANGFLOW)


def brief_prose(brief: Brief, data: TenantBriefData, stated: str) -> str:
    """The flow writes the brief's opening from its facts. Its prose is kept only if every
    number in it is one the brief states (`stated`, the brief's own text): the figures come from
    the data, never from the model."""
    instance = data.personal
    assert instance is not None
    message = json.dumps({"intent": "daily_brief", "brief": brief.facts()})
    result, _run = agent_execute(instance=instance, message=message)
    if not result.ok:
        logger.info("brief prose for user %s: flow failed (%s)", brief.user_id, result.error)
        return ""
    allowed = numbers_in(stated) | numbers_in(brief.brief_date.isoformat())
    invented = numbers_in(result.text) - allowed
    if invented:
        logger.warning(
            "brief prose for user %s dropped: %d number(s) not in the brief",
            brief.user_id,
            len(invented),
        )
        return ""
    return result.text.strip()
