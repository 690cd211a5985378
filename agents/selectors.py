"""Reads of the marketing data that more than one caller needs (the agents, the daily briefs).

Windows are anchored on the latest day that has data, not on today: an import that lags a day
still gives "the last 7 days" a full week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max, Sum

from accounts.models import Tenant
from agents.models import (
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    SegmentDay,
)

ZERO = Decimal("0")


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Window:
        return Window(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def window_ending(end: date, days: int) -> Window:
    return Window(end - timedelta(days=days - 1), end)


@dataclass(frozen=True)
class AdStats:
    spend: Decimal
    revenue: Decimal
    impressions: int
    clicks: int
    conversions: int

    @property
    def roas(self) -> Decimal | None:
        return (self.revenue / self.spend).quantize(Decimal("0.01")) if self.spend else None

    @property
    def cpa(self) -> Decimal | None:
        return (
            (self.spend / self.conversions).quantize(Decimal("0.01")) if self.conversions else None
        )

    @property
    def ctr_percent(self) -> Decimal | None:
        if not self.impressions:
            return None
        return (Decimal(self.clicks) * 100 / Decimal(self.impressions)).quantize(Decimal("0.01"))


EMPTY_STATS = AdStats(ZERO, ZERO, 0, 0, 0)


def latest_ad_day(tenant: Tenant) -> date | None:
    return CampaignDay.objects.for_tenant(tenant).aggregate(d=Max("date"))["d"]


def _stats(rows: dict[str, Any]) -> AdStats:
    return AdStats(
        spend=rows["spend"] or ZERO,
        revenue=rows["revenue"] or ZERO,
        impressions=rows["impressions"] or 0,
        clicks=rows["clicks"] or 0,
        conversions=rows["conversions"] or 0,
    )


STAT_SUMS = {
    "spend": Sum("spend"),
    "revenue": Sum("revenue"),
    "impressions": Sum("impressions"),
    "clicks": Sum("clicks"),
    "conversions": Sum("conversions"),
}


def ad_stats(
    *,
    tenant: Tenant,
    window: Window,
    platform: str | None = None,
    campaign: Campaign | None = None,
) -> AdStats:
    rows = CampaignDay.objects.for_tenant(tenant).filter(date__range=(window.start, window.end))
    if platform:
        rows = rows.filter(campaign__platform=platform)
    if campaign:
        rows = rows.filter(campaign=campaign)
    return _stats(rows.aggregate(**STAT_SUMS))


def ad_stats_by_campaign(
    *, tenant: Tenant, window: Window, platform: str | None = None
) -> dict[int, AdStats]:
    rows = CampaignDay.objects.for_tenant(tenant).filter(date__range=(window.start, window.end))
    if platform:
        rows = rows.filter(campaign__platform=platform)
    return {
        row["campaign_id"]: _stats(row)
        for row in rows.values("campaign_id").annotate(**STAT_SUMS).order_by("campaign_id")
    }


def ad_stats_by_day(*, tenant: Tenant, window: Window) -> dict[date, AdStats]:
    """Every day of the window, a day without rows as EMPTY_STATS (a trend has no holes)."""
    rows = (
        CampaignDay.objects.for_tenant(tenant)
        .filter(date__range=(window.start, window.end))
        .values("date")
        .annotate(**STAT_SUMS)
        .order_by("date")
    )
    found = {row["date"]: _stats(row) for row in rows}
    days = (window.start + timedelta(days=n) for n in range(window.days))
    return {day: found.get(day, EMPTY_STATS) for day in days}


def campaigns(tenant: Tenant, platform: str | None = None) -> list[Campaign]:
    queryset = Campaign.objects.for_tenant(tenant)
    if platform:
        queryset = queryset.filter(platform=platform)
    return list(queryset.order_by("platform", "name"))


def spend_on(tenant: Tenant, day: date) -> dict[int, Decimal]:
    return dict(
        CampaignDay.objects.for_tenant(tenant).filter(date=day).values_list("campaign_id", "spend")
    )


# SEO


def latest_keyword_day(tenant: Tenant) -> date | None:
    return KeywordRanking.objects.for_tenant(tenant).aggregate(d=Max("date"))["d"]


def keyword_positions(tenant: Tenant, day: date) -> dict[str, KeywordRanking]:
    return {row.keyword: row for row in KeywordRanking.objects.for_tenant(tenant).filter(date=day)}


def page_sessions(tenant: Tenant, window: Window) -> list[dict[str, Any]]:
    return list(
        PageTraffic.objects.for_tenant(tenant)
        .filter(date__range=(window.start, window.end))
        .values("url")
        .annotate(
            sessions=Sum("sessions"),
            organic=Sum("organic_sessions"),
            conversions=Sum("conversions"),
        )
        .order_by("-organic", "url")
    )


# Content


def published_content(tenant: Tenant, since: date) -> list[ContentItem]:
    return list(
        ContentItem.objects.for_tenant(tenant)
        .filter(status=ContentItem.Status.PUBLISHED, published_at__date__gte=since)
        .order_by("-published_at", "title")
    )


def unpublished_content(tenant: Tenant) -> list[ContentItem]:
    return list(
        ContentItem.objects.for_tenant(tenant)
        .exclude(status=ContentItem.Status.PUBLISHED)
        .order_by("title")
    )


# Audience


def latest_segment_day(tenant: Tenant) -> date | None:
    return SegmentDay.objects.for_tenant(tenant).aggregate(d=Max("date"))["d"]


def segments_on(tenant: Tenant, day: date) -> dict[str, SegmentDay]:
    return {
        row.segment.name: row
        for row in SegmentDay.objects.for_tenant(tenant).filter(date=day).select_related("segment")
    }


def latest_published_day(tenant: Tenant) -> date | None:
    latest = (
        ContentItem.objects.for_tenant(tenant)
        .filter(status=ContentItem.Status.PUBLISHED)
        .aggregate(d=Max("published_at"))["d"]
    )
    return latest.date() if latest else None
