"""Paid ads questions about one figure: the metric asked, for the campaigns and the period asked.

Spend is spend: a campaign paused this morning still spent what it spent yesterday, so every
figure sums the campaign days of the period whatever the campaigns' status is today. The answer
names its scope and period, and records both in its figures for the run's metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.models import Tenant
from agents import selectors
from agents.backends.builtin.common import Answer, count, day, money, percent, ratio
from agents.models import Campaign, Platform
from agents.selectors import AdStats, Window
from agents.understanding import Period, Request

DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Scope:
    label: str
    platform: str | None = None
    campaign: Campaign | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "platform": self.platform,
            "campaign_id": self.campaign.pk if self.campaign else None,
        }


def scope_of(platform: str | None, campaign: Campaign | None) -> Scope:
    if campaign:
        return Scope(f"{campaign.name} ({campaign.get_platform_display()})", None, campaign)
    if platform:
        return Scope(Platform(platform).label, platform)
    return Scope("All campaigns")


def default_period(latest: date) -> Period:
    window = selectors.window_ending(latest, DEFAULT_DAYS)
    return Period(
        window.start,
        window.end,
        f"the last {DEFAULT_DAYS} days ({day(window.start)} to {day(window.end)})",
        explicit=False,
    )


def period_or_default(request: Request, latest: date) -> Period:
    return request.period or default_period(latest)


def through(period: Period, latest: date) -> str:
    """A note when the period runs past the last day with figures (today's are not in yet)."""
    return f" (figures through {day(latest)})" if period.end > latest >= period.start else ""


# Each metric's value in a campaign-day sum, and how one value is printed (ratio prints n/a).
VALUES: dict[str, Callable[[AdStats], Any]] = {
    "spend": lambda stats: stats.spend,
    "revenue": lambda stats: stats.revenue,
    "roas": lambda stats: stats.roas,
    "cpa": lambda stats: stats.cpa,
    "ctr": lambda stats: stats.ctr_percent,
    "conversions": lambda stats: stats.conversions,
}
# The metrics this agent answers with one figure ("budget" gets the pacing answer; the rest are
# other agents' data).
AD_METRICS = frozenset(VALUES)
FORMATS: dict[str, Callable[[Any], str]] = {
    "spend": money,
    "revenue": money,
    "roas": ratio,
    "cpa": money,
    "ctr": percent,
    "conversions": count,
}


def _stats_text(metric: str, stats: AdStats) -> str:
    if metric == "spend":
        return f"spent {money(stats.spend)}"
    if metric == "revenue":
        return f"brought in {money(stats.revenue)} in revenue"
    if metric == "roas":
        return (
            f"had ROAS {ratio(stats.roas)} ({money(stats.revenue)} revenue on "
            f"{money(stats.spend)} spend)"
        )
    if metric == "cpa":
        if stats.cpa is None:
            return f"had no conversions on {money(stats.spend)} spend, so no CPA"
        return (
            f"paid {money(stats.cpa)} per conversion ({count(stats.conversions)} conversions on "
            f"{money(stats.spend)} spend)"
        )
    if metric == "ctr":
        if stats.ctr_percent is None:
            return "had no impressions, so no CTR"
        return (
            f"had a click-through rate of {percent(stats.ctr_percent)} ({count(stats.clicks)} "
            f"clicks of {count(stats.impressions)} impressions)"
        )
    return f"had {count(stats.conversions)} conversions"


def _short(metric: str, stats: AdStats) -> str:
    value = VALUES[metric](stats)
    return "n/a" if value is None else FORMATS[metric](value)


def figure(tenant: Tenant, *, metric: str, scope: Scope, period: Period, latest: date) -> Answer:
    """One metric for one scope over one period, with the campaigns behind it."""
    window = Window(period.start, min(period.end, latest))
    if window.end < window.start:
        return Answer(
            f"I have no ad figures {when(period)} yet: the latest day I have is {day(latest)}.",
            {"metric": metric, "scope": scope.as_dict(), "period": period.as_dict()},
            has_data=False,
        )
    stats = selectors.ad_stats(
        tenant=tenant, window=window, platform=scope.platform, campaign=scope.campaign
    )
    value = VALUES[metric](stats)
    text = f"{scope.label} {_stats_text(metric, stats)} {when(period)}{through(period, latest)}."
    figures: dict[str, object] = {
        "metric": metric,
        "value": value,
        "spend": stats.spend,
        "revenue": stats.revenue,
        "conversions": stats.conversions,
        "scope": scope.as_dict(),
        "period": period.as_dict(),
    }
    if scope.campaign is None:
        parts = _by_campaign(tenant, window, scope.platform, metric)
        if len(parts) > 1:
            text += " By campaign: " + "; ".join(line for line, _ in parts) + "."
            figures["by_campaign"] = [entry for _, entry in parts]
    return Answer(text, figures)


def _by_campaign(
    tenant: Tenant, window: Window, platform: str | None, metric: str
) -> list[tuple[str, dict[str, object]]]:
    listed = {c.pk: c for c in selectors.campaigns(tenant, platform)}
    rows = selectors.ad_stats_by_campaign(tenant=tenant, window=window, platform=platform)
    spent = sorted(
        ((listed[pk], stats) for pk, stats in rows.items() if stats.spend and pk in listed),
        key=lambda pair: (-pair[1].spend, pair[0].name),
    )
    parts = []
    for campaign, stats in spent:
        value = VALUES[metric](stats)
        shown = _short(metric, stats)
        status = "" if campaign.status == Campaign.Status.ACTIVE else f", now {campaign.status}"
        parts.append(
            (
                f"{campaign.name} {shown}{status}",
                {"campaign": campaign.name, "value": value, "status": campaign.status},
            )
        )
    return parts


def when(period: Period) -> str:
    """The period as the end of a sentence: "yesterday (Dec 5)", "in November 2026", "from
    Nov 3 to Nov 10"."""
    label = period.label
    if label.split(" ", 1)[0].lower() in {"yesterday", "today", "the", "last", "this"}:
        return label
    return f"from {label}" if " to " in label else f"in {label}"
