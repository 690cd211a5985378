"""Factories for the marketing data the agents read. Daily rows default to yesterday, with
figures that keep the models' constraints (clicks <= impressions, organic <= sessions)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from agents.models import (
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    Platform,
    SegmentDay,
)
from tests.factories import TenantFactory


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    tenant = factory.SubFactory(TenantFactory)
    platform = Platform.META
    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = Campaign.Status.ACTIVE
    daily_budget = Decimal("100.00")
    target_roas = Decimal("3.00")


class CampaignDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignDay

    campaign = factory.SubFactory(CampaignFactory)
    date = factory.LazyFunction(yesterday)
    spend = Decimal("100.00")
    impressions = 10_000
    clicks = 200
    conversions = 10
    revenue = Decimal("300.00")


class KeywordRankingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeywordRanking

    tenant = factory.SubFactory(TenantFactory)
    keyword = factory.Sequence(lambda n: f"keyword {n}")
    date = factory.LazyFunction(yesterday)
    position = 5
    search_volume = 1_000
    url = factory.LazyAttribute(lambda o: f"https://{o.tenant.slug}.example/")


class PageTrafficFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PageTraffic

    tenant = factory.SubFactory(TenantFactory)
    url = factory.Sequence(lambda n: f"https://example.org/page-{n}")
    date = factory.LazyFunction(yesterday)
    sessions = 100
    organic_sessions = 60
    conversions = 2


class ContentItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentItem

    tenant = factory.SubFactory(TenantFactory)
    title = factory.Sequence(lambda n: f"Content {n}")
    kind = ContentItem.Kind.SOCIAL_POST
    channel = "instagram"
    topic = "trail running"
    status = ContentItem.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    impressions = 1_000
    engagements = 50
    clicks = 10
    shares = 2


class AudienceSegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AudienceSegment

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    description = ""


class SegmentDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentDay

    segment = factory.SubFactory(AudienceSegmentFactory)
    date = factory.LazyFunction(yesterday)
    size = 1_000
    churn_risk = Decimal("0.100")
    ltv = Decimal("120.00")
