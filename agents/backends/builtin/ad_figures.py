"""Paid ads questions about one figure: the metric asked, for the campaigns and the period asked.

Spend is spend: a campaign paused this morning still spent what it spent yesterday, so every
figure sums the campaign days of the period whatever the campaigns' status is today. The answer
names its scope and period, and records both in its figures for the run's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accounts.models import Tenant
from agents import selectors
from agents.backends.builtin.common import Answer, count, day, money, percent, ratio
from agents.models import Campaign, Platform
from agents.selectors import AdStats, Window
from agents.understanding import Period, Request

DEFAULT_DAYS = 7
# The metrics this agent answers with one figure ("budget" gets the pacing answer; the rest are
# other agents' data).
AD_METRICS = frozenset({"spend", "revenue", "roas", "cpa", "ctr", "conversions"})


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


def _stats_text(metric: str, stats: AdStats) -> tuple[str, object]:
    if metric == "spend":
        return f"spent {money(stats.spend)}", stats.spend
    if metric == "revenue":
        return f"brought in {money(stats.revenue)} in revenue", stats.revenue
    if metric == "roas":
        return (
            f"had ROAS {ratio(stats.roas)} ({money(stats.revenue)} revenue on "
            f"{money(stats.spend)} spend)",
            stats.roas,
        )
    if metric == "cpa":
        if stats.cpa is None:
            return f"had no conversions on {money(stats.spend)} spend, so no CPA", None
        return (
            f"paid {money(stats.cpa)} per conversion ({count(stats.conversions)} conversions on "
            f"{money(stats.spend)} spend)",
            stats.cpa,
        )
    if metric == "ctr":
        if stats.ctr_percent is None:
            return "had no impressions, so no CTR", None
        return (
            f"had a click-through rate of {percent(stats.ctr_percent)} ({count(stats.clicks)} "
            f"clicks of {count(stats.impressions)} impressions)",
            stats.ctr_percent,
        )
    return f"had {count(stats.conversions)} conversions", stats.conversions


def _value_of(metric: str, stats: AdStats) -> object:
    return _stats_text(metric, stats)[1]


def figure(tenant: Tenant, *, metric: str, scope: Scope, period: Period, latest: date) -> Answer:
    """One metric for one scope over one period, with the campaigns behind it."""
    window = Window(period.start, min(period.end, latest))
    if window.end < window.start:
        return Answer(
            f"I have no ad figures {when(period)} yet: the latest day I have is {day(latest)}.",
            {"metric": metric, "scope": scope.as_dict(), "period": period_dict(period)},
            has_data=False,
        )
    stats = selectors.ad_stats(
        tenant=tenant, window=window, platform=scope.platform, campaign=scope.campaign
    )
    said, value = _stats_text(metric, stats)
    text = f"{scope.label} {said} {when(period)}{through(period, latest)}."
    figures: dict[str, object] = {
        "metric": metric,
        "value": value,
        "spend": stats.spend,
        "revenue": stats.revenue,
        "conversions": stats.conversions,
        "scope": scope.as_dict(),
        "period": period_dict(period),
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
        value = _value_of(metric, stats)
        shown = _short(metric, stats)
        status = "" if campaign.status == Campaign.Status.ACTIVE else f", now {campaign.status}"
        parts.append(
            (
                f"{campaign.name} {shown}{status}",
                {"campaign": campaign.name, "value": value, "status": campaign.status},
            )
        )
    return parts


def _short(metric: str, stats: AdStats) -> str:
    if metric == "spend":
        return money(stats.spend)
    if metric == "revenue":
        return money(stats.revenue)
    if metric == "roas":
        return ratio(stats.roas)
    if metric == "cpa":
        return money(stats.cpa) if stats.cpa is not None else "n/a"
    if metric == "ctr":
        return percent(stats.ctr_percent) if stats.ctr_percent is not None else "n/a"
    return count(stats.conversions)


def period_dict(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label}


def when(period: Period) -> str:
    """The period as the end of a sentence: "yesterday (Dec 5)", "in November 2026", "from
    Nov 3 to Nov 10"."""
    label = period.label
    if label.split(" ", 1)[0].lower() in {"yesterday", "today", "the", "last", "this"}:
        return label
    return f"from {label}" if " to " in label else f"in {label}"
