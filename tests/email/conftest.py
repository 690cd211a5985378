"""A workspace for the brief tests: acme on the Business plan with every agent on, two weeks of
known marketing data ending yesterday, and a reader (a marketing manager) subscribed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import SubscriptionTier, Tenant, User
from accounts.roles import MARKETING_MANAGER, SUPER_ADMIN
from agents.models import (
    AgentInstance,
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    Platform,
    SegmentDay,
)
from agents.services import agent_instance_update
from channels_app.email.services import preferences_update
from tests.factories import StaffFactory, TenantFactory


def enable_agents(tenant: Tenant, *agent_types: str) -> None:
    for instance in AgentInstance.objects.filter(tenant=tenant).select_related("agent", "tenant"):
        if not agent_types or instance.agent.agent_type in agent_types:
            agent_instance_update(instance=instance, enabled=True)


# (name, platform, status, daily budget, target ROAS, spend per day, ROAS this week, ROAS the
# week before). Spend and ROAS vary by day around these so that no two days look alike.
CAMPAIGNS = (
    ("Spring Sale", Platform.META, "active", "100.00", "3.00", "96.00", "4.20", "3.50"),
    ("Brand Search", Platform.GOOGLE_ADS, "active", "50.00", "4.00", "48.00", "5.10", "4.90"),
    ("Retargeting", Platform.META, "active", "80.00", "3.00", "60.00", "2.10", "2.60"),
    ("TikTok Launch", Platform.TIKTOK, "active", "60.00", "2.50", "45.00", "0.70", "0.90"),
    ("Old Promo", Platform.LINKEDIN, "paused", "40.00", "3.00", "0.00", "0.00", "0.00"),
)
KEYWORDS = (
    # keyword, position a week before, position now, monthly searches
    ("trail running shoes", 9, 4, 12_000),
    ("waterproof hiking boots", 6, 12, 8_100),
    ("running socks", 15, 14, 2_400),
    ("best trail shoes 2026", 3, 2, 5_400),
    ("ultralight tent", 22, 30, 1_900),
    ("hiking poles", 8, 8, 3_300),
)
PAGES = (
    ("https://acme.example/trail-running", 420, 310),
    ("https://acme.example/hiking-boots", 260, 150),
    ("https://acme.example/blog/layering", 190, 170),
    ("https://acme.example/", 900, 240),
)
POSTS = (
    # title, kind, channel, topic, days before yesterday, impressions, engagements, clicks
    ("Five trail myths", "social_post", "instagram", "trail running", 2, 12_000, 960, 300),
    ("Boot care 101", "blog_article", "blog", "hiking gear", 5, 4_000, 180, 220),
    ("Dawn run reel", "video_script", "tiktok", "trail running", 9, 20_000, 1_400, 410),
    ("Layering guide", "blog_article", "blog", "hiking gear", 15, 3_000, 90, 150),
    ("Spring launch mail", "email_campaign", "email", "launch", 20, 8_000, 400, 640),
)
SEGMENTS = (
    # name, size then, size now, churn now, churn then, LTV
    ("Weekend hikers", 4_000, 4_600, "0.120", "0.150", "180.00"),
    ("Lapsed buyers", 2_500, 2_300, "0.420", "0.310", "95.00"),
    ("Trail pros", 800, 880, "0.050", "0.060", "420.00"),
)


def seed_marketing(tenant: Tenant, end: date) -> None:
    for index, (name, platform, status, budget, target, spend, roas, before) in enumerate(
        CAMPAIGNS
    ):
        campaign = Campaign.objects.create(
            tenant=tenant,
            platform=platform,
            name=name,
            status=status,
            daily_budget=Decimal(budget),
            target_roas=Decimal(target),
        )
        for back in range(14):
            day = end - timedelta(days=back)
            wobble = Decimal(back % 3 - 1) * Decimal("0.05")  # -5%, 0, +5%
            base = Decimal(spend) * (1 + wobble)
            if index == 0 and back == 0:
                base = Decimal("163.00")  # overspent yesterday, by more than half
            elif index == 2 and back == 0:
                base = Decimal("88.00")  # a little over
            factor = Decimal(roas if back < 7 else before) * (1 + wobble / 2)
            CampaignDay.objects.create(
                campaign=campaign,
                date=day,
                spend=base.quantize(Decimal("0.01")),
                impressions=int(base * 120) + back,
                clicks=int(base * 3),
                conversions=int(base * factor / 40),
                revenue=(base * factor).quantize(Decimal("0.01")),
            )
    for keyword, was, now, volume in KEYWORDS:
        for day, position in ((end - timedelta(days=7), was), (end, now)):
            KeywordRanking.objects.create(
                tenant=tenant,
                keyword=keyword,
                date=day,
                position=position,
                search_volume=volume,
                url=f"https://acme.example/{keyword.replace(' ', '-')}",
            )
    for url, sessions, organic in PAGES:
        for back in range(14):
            grow = 1 if back < 7 else 0
            PageTraffic.objects.create(
                tenant=tenant,
                url=url,
                date=end - timedelta(days=back),
                sessions=sessions + 10 * grow + back,
                organic_sessions=organic + 8 * grow + back,
                conversions=back % 4,
            )
    noon = time(12, 0)
    for title, kind, channel, topic, back, impressions, engagements, clicks in POSTS:
        ContentItem.objects.create(
            tenant=tenant,
            title=title,
            kind=kind,
            channel=channel,
            topic=topic,
            status=ContentItem.Status.PUBLISHED,
            published_at=timezone.make_aware(datetime.combine(end - timedelta(days=back), noon)),
            impressions=impressions,
            engagements=engagements,
            clicks=clicks,
        )
    ContentItem.objects.create(
        tenant=tenant,
        title="Sunrise trail series",
        kind="social_post",
        channel="instagram",
        topic="trail running",
        status=ContentItem.Status.SCHEDULED,
    )
    for name, then, now, churn, churn_then, ltv in SEGMENTS:
        segment = AudienceSegment.objects.create(tenant=tenant, name=name)
        SegmentDay.objects.create(
            segment=segment,
            date=end - timedelta(days=30),
            size=then,
            churn_risk=Decimal(churn_then),
            ltv=Decimal(ltv),
        )
        SegmentDay.objects.create(
            segment=segment, date=end, size=now, churn_risk=Decimal(churn), ltv=Decimal(ltv)
        )


@dataclass
class Workspace:
    tenant: Tenant
    reader: User
    admin: User
    end: date


@pytest.fixture
def workspace(db: None) -> Workspace:
    tenant = TenantFactory(slug="acme", name="Acme", tier=SubscriptionTier.BUSINESS)
    enable_agents(tenant)
    end = timezone.localdate() - timedelta(days=1)
    seed_marketing(tenant, end)
    reader = StaffFactory(
        tenant=tenant,
        username="carmen",
        first_name="Carmen",
        email="carmen@acme.example",
        time_zone="America/New_York",
        roles=[MARKETING_MANAGER],
    )
    preferences_update(user=reader, now=timezone.now(), enabled=True)
    admin = StaffFactory(tenant=tenant, username="alex", roles=[SUPER_ADMIN])
    return Workspace(tenant=tenant, reader=reader, admin=admin, end=end)


@pytest.fixture(autouse=True)
def empty_outbox() -> None:
    mail.outbox = []
