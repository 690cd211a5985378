"""The brief: its dataclass, and `brief_compose`, which assembles one reader's brief from the
tenant's data, the sections and action items that reader wants, the at-a-glance figures and the
subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from agents.backends.builtin.common import change, count, day, percent_change, ratio
from agents.types import AgentType
from channels_app.email.compose.actions import action_items, user_approvals
from channels_app.email.compose.audience import audience_section
from channels_app.email.compose.content import content_section
from channels_app.email.compose.data import TenantBriefData
from channels_app.email.compose.paid_ads import paid_ads_section
from channels_app.email.compose.parts import ActionItem, BriefSection, Stat, tone
from channels_app.email.compose.seo import seo_section
from channels_app.email.models import DigestFormat, EmailPreferences, Frequency, Priority, Section
from hitl.models import Approval

SECTION_AGENTS = {
    Section.PAID_ADS: AgentType.PAID_ADS,
    Section.SEO: AgentType.SEO,
    Section.CONTENT: AgentType.CONTENT,
    Section.AUDIENCE: AgentType.AUDIENCE,
}


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
    approvals: tuple[list[Approval], int] | None = None,
) -> Brief:
    """`approvals`: the reader's, with their total, when the caller read them for many readers
    at once (`readers_approvals`); read here otherwise."""
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
    sections = []
    for key, build in builders.items():
        if key not in wanted or not data.enabled(SECTION_AGENTS[key]):
            continue
        if (key, minimum) not in data.sections:
            data.sections[(key, minimum)] = build()
        sections.append(data.sections[(key, minimum)])
    items: list[ActionItem] = []
    more = 0
    if Section.ACTION_ITEMS in wanted:
        shown, total = approvals if approvals is not None else user_approvals(user)
        items, more = action_items(
            data=data,
            sections=wanted,
            approvals=shown,
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
                tone(ads.roas_change),
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
                tone(traffic),
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
