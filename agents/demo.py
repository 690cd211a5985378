"""The demo tenants' Walker agents and the marketing data they read.

Two businesses: acme is a direct-to-consumer running-gear brand (orders, basket values in the
tens of dollars, Meta and Google Shopping doing the heavy lifting); globex sells B2B software
(few, valuable conversions: trials and demos valued at their expected contract value, LinkedIn
first).

Sixty days of daily rows, ending yesterday (a day's figures are complete the day after), shaped
so the agents have something to say: per tenant a campaign beating its target ROAS while its
budget holds it back (a budget increase), one losing money (a pause), and at acme one spending
over its daily budget lately; keywords climbing and falling, some just below the top three with
high volume; a segment whose churn risk has risen past 30%.

The numbers hang together: clicks come from impressions at a click-through rate, conversions
from clicks, revenue from conversions at an order value, so ROAS, CTR and CPA read true. A
`random.Random` seeded per tenant plans the same history on every run; rows already stored are
kept (existence checks on the natural keys), so a re-run creates nothing.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

from accounts.models import Tenant
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
from agents.services import agent_instance_update, tenant_agents_provision

Progress = Callable[[str], None]

HISTORY_DAYS = 60
CENTS = Decimal("0.01")
# Cost per thousand impressions, by platform: search and LinkedIn are dear, TikTok cheap.
CPM: dict[str, float] = {
    Platform.META: 11.0,
    Platform.TIKTOK: 6.5,
    Platform.GOOGLE_ADS: 38.0,
    Platform.LINKEDIN: 36.0,
}
# Weekly rhythm of conversions (Monday first): people buy on Sundays, decide at work on Tuesdays.
DTC_WEEK = (1.02, 0.97, 0.95, 0.96, 1.0, 1.03, 1.08)
B2B_WEEK = (1.1, 1.15, 1.12, 1.05, 0.9, 0.8, 0.85)

Status = Campaign.Status
ContentStatus = ContentItem.Status


@dataclass(frozen=True)
class CampaignPlan:
    platform: str
    name: str
    daily_budget: int
    target_roas: str
    roas: tuple[float, float]  # at the start and the end of the history
    ctr: tuple[float, float]  # a falling CTR is creative fatigue
    order_value: float
    pacing: float = 0.75  # the share of the budget spent on an ordinary day
    overspend_days: int = 0  # the last days spent over the budget
    stopped_days_ago: int = 0  # a paused campaign has no rows since
    status: str = Status.ACTIVE
    cpm: float | None = None  # when it differs from the platform's (Shopping is cheaper)


@dataclass(frozen=True)
class PagePlan:
    path: str
    sessions: int  # a day, at the start of the history
    growth: float  # sessions at the end over sessions at the start
    organic_share: float
    conversion_rate: float


@dataclass(frozen=True)
class KeywordPlan:
    keyword: str
    page: str
    volume: int
    position: tuple[int, int]  # at the start and the end of the history


@dataclass(frozen=True)
class ContentPlan:
    kind: str
    channel: str
    topic: str
    title: str


@dataclass(frozen=True)
class SegmentPlan:
    name: str
    description: str
    size: tuple[int, int]
    churn: tuple[float, float]
    ltv: tuple[float, float]


@dataclass(frozen=True)
class Business:
    domain: str
    week: tuple[float, ...]
    campaigns: tuple[CampaignPlan, ...]
    pages: tuple[PagePlan, ...]
    keywords: tuple[KeywordPlan, ...]
    content: tuple[ContentPlan, ...]
    # Engagement rate per topic (engagements per impression): what the audience cares for.
    topic_engagement: dict[str, float]
    segments: tuple[SegmentPlan, ...]


def _content_table(table: str) -> tuple[ContentPlan, ...]:
    """Rows of `kind | channel | topic | title`."""
    return tuple(
        ContentPlan(*(cell.strip() for cell in line.split("|", 3)))
        for line in table.strip().splitlines()
    )


P = Platform
C = CampaignPlan

# kind | channel | topic | title
ACME_CONTENT = _content_table(
    """
social_post    | instagram | trail running     | Meet the Summit Trail Runner
social_post    | instagram | trail running     | Sunrise miles on the ridge: photo of the week
social_post    | instagram | product launch    | Stormshell jacket: rain-tested in Portland
social_post    | instagram | marathon training | Long-run Sunday: what is in your hydration pack?
social_post    | instagram | sustainability    | Our soles now use 30% recycled rubber
social_post    | instagram | community         | Acme Run Club: 1,000 members strong
social_post    | tiktok    | trail running     | POV: your first trail ultra in 60 seconds
social_post    | tiktok    | gear care         | How to clean muddy trail shoes in 3 steps
social_post    | tiktok    | product launch    | Cloudline unboxing, no cuts
social_post    | tiktok    | marathon training | Coach reacts to your marathon taper mistakes
social_post    | tiktok    | community         | Running club roll call: where are you running?
social_post    | facebook  | sale              | Spring sale: 20% off road shoes this weekend
social_post    | facebook  | community         | Join our virtual 10K this month
social_post    | facebook  | sustainability    | Send back your worn-out shoes: we recycle them
social_post    | instagram | sale              | Last call: spring sale ends tonight
social_post    | tiktok    | gear care         | Make your running jacket waterproof again
blog_article   | blog      | trail running     | How to choose trail running shoes
blog_article   | blog      | trail running     | Trail running for beginners
blog_article   | blog      | marathon training | A 16-week marathon training plan
blog_article   | blog      | gear care         | The best running socks for blisters
blog_article   | blog      | trail running     | Trail vs road running shoes
blog_article   | blog      | sustainability    | Inside our recycled-rubber sole
blog_article   | blog      | marathon training | What to eat the week before a marathon
blog_article   | blog      | gear care         | How long do running shoes last?
email_campaign | email     | product launch    | New: the Summit Trail Runner is here
email_campaign | email     | sale              | Spring sale: 20% off road shoes
email_campaign | email     | sale              | 48 hours left: spring sale
email_campaign | email     | marathon training | Your 16-week plan, week by week
email_campaign | email     | community         | Acme Run Club: April recap
email_campaign | email     | gear care         | Is it time to replace your running shoes?
email_campaign | email     | product launch    | Stormshell: built for rain
video_script   | youtube   | trail running     | Trail running form: 5 fixes from a coach
video_script   | youtube   | product launch    | Summit Trail Runner: 100-mile review
video_script   | youtube   | marathon training | Marathon pacing explained
video_script   | tiktok    | gear care         | Lacing tricks for wide feet
video_script   | tiktok    | trail running     | Downhill running technique in 30 seconds
video_script   | youtube   | sustainability    | Where your old running shoes go
video_script   | youtube   | community         | A day with Acme Run Club
blog_article   | blog      | product launch    | Cloudline road shoe: what is new
social_post    | instagram | product launch    | Coming soon: the Summit GTX
email_campaign | email     | product launch    | Early access: the Summit GTX
blog_article   | blog      | trail running     | Ten trails to run before you die
"""
)

GLOBEX_CONTENT = _content_table(
    """
blog_article   | blog      | operations        | 12 operations KPIs that matter
blog_article   | blog      | automation        | The complete guide to workflow automation
blog_article   | blog      | forecasting       | Inventory forecasting without spreadsheets
blog_article   | blog      | customer stories  | How Vandelay Industries cut stockouts by 40%
blog_article   | blog      | automation        | When not to automate a workflow
blog_article   | blog      | product           | What is new in Globex: spring release
blog_article   | blog      | operations        | Building an ops team from zero
social_post    | linkedin  | operations        | Your ops dashboard has 40 charts. You need 6.
social_post    | linkedin  | customer stories  | Vandelay Industries: 40% fewer stockouts
social_post    | linkedin  | automation        | Three approvals nobody should do by hand
social_post    | linkedin  | product           | Spring release: live forecasts
social_post    | linkedin  | events            | Join our webinar: ops metrics that matter
social_post    | linkedin  | forecasting       | Forecast accuracy is a team sport
social_post    | linkedin  | hiring            | We are hiring solutions engineers
social_post    | twitter   | product           | Salesforce sync is now two-way
social_post    | twitter   | operations        | Hot take: weekly ops reviews are too long
email_campaign | email     | product           | Spring release: live forecasts
email_campaign | email     | events            | Webinar invite: ops metrics that matter
email_campaign | email     | events            | Recording: ops metrics that matter
email_campaign | email     | customer stories  | How Vandelay cut stockouts by 40%
email_campaign | email     | automation        | Trial tip: automate your first approval
email_campaign | email     | operations        | The ops leader's monthly brief
video_script   | youtube   | product           | Globex in 90 seconds
video_script   | youtube   | automation        | Build an approval workflow in 5 minutes
video_script   | youtube   | customer stories  | Vandelay Industries case study
video_script   | linkedin  | forecasting       | Forecasting demo for planners
blog_article   | blog      | product           | Globex vs Initech: an honest comparison
social_post    | linkedin  | events            | See you at OpsCon next month
email_campaign | email     | product           | Coming soon: Globex for Teams
blog_article   | blog      | forecasting       | Demand sensing, explained
"""
)

ACME = Business(
    domain="https://acme.example",
    week=DTC_WEEK,
    campaigns=(
        # The budget-increase candidate: far above target, and it spends all it is given.
        C(P.META, "Prospecting - Lookalike 1%", 400, "2.50", (3.9, 4.7), (0.016, 0.017), 82,
          pacing=0.985),
        C(P.META, "Retargeting - Cart Abandoners", 150, "4.00", (4.6, 4.2), (0.024, 0.022), 74),
        C(P.META, "Broad - Spring Collection", 300, "2.50", (2.6, 1.9), (0.013, 0.009), 68,
          pacing=0.8),
        C(P.META, "Advantage+ Shopping", 500, "3.00", (3.1, 3.4), (0.015, 0.015), 77, pacing=0.7),
        # The pause candidate: creator content that wore out, now losing money.
        C(P.TIKTOK, "Spark Ads - Creator Reviews", 200, "2.00", (1.6, 0.55), (0.011, 0.006), 46,
          pacing=0.78),
        C(P.TIKTOK, "In-Feed - Trail Runners", 120, "2.00", (1.9, 2.3), (0.009, 0.010), 52,
          pacing=0.7),
        C(P.TIKTOK, "TopView - Summer Launch", 250, "2.00", (1.4, 1.2), (0.008, 0.007), 58,
          stopped_days_ago=18, status=Status.PAUSED),
        C(P.GOOGLE_ADS, "Search - Brand", 100, "6.00", (7.2, 6.9), (0.082, 0.085), 88,
          pacing=0.6),
        # Over its budget lately: a sale pushed the bids up and ROAS did not follow.
        C(P.GOOGLE_ADS, "Shopping - All Products", 250, "4.00", (3.6, 3.0), (0.011, 0.012), 71,
          pacing=0.82, overspend_days=5, cpm=12.0),
        C(P.GOOGLE_ADS, "Search - Running Shoes", 220, "3.00", (2.4, 2.7), (0.046, 0.048), 96,
          pacing=0.8),
        C(P.GOOGLE_ADS, "Performance Max - Catch-all", 180, "3.50", (3.4, 3.7), (0.019, 0.02), 79,
          pacing=0.72, cpm=14.0),
        # Wholesale and team leads, valued at what a lead has been worth on average.
        C(P.LINKEDIN, "Wholesale - Retail Buyers", 80, "1.50", (1.8, 2.0), (0.0055, 0.006), 120,
          pacing=0.7),
        C(P.LINKEDIN, "Corporate Gifting - HR Leaders", 60, "2.00", (2.2, 2.4), (0.005, 0.0052),
          110, pacing=0.66),
        C(P.LINKEDIN, "Team Orders - Running Clubs", 50, "2.00", (1.8, 1.9), (0.006, 0.0058), 95,
          pacing=0.7),
    ),
    pages=(
        PagePlan("/", 2400, 1.04, 0.34, 0.021),
        PagePlan("/collections/trail-running-shoes", 1300, 1.35, 0.58, 0.034),
        PagePlan("/collections/road-running-shoes", 1100, 1.02, 0.52, 0.031),
        PagePlan("/products/summit-trail-runner", 760, 1.28, 0.41, 0.052),
        PagePlan("/products/cloudline-road-shoe", 640, 0.96, 0.38, 0.048),
        PagePlan("/collections/running-jackets", 520, 0.74, 0.61, 0.026),
        PagePlan("/products/stormshell-jacket", 310, 0.8, 0.47, 0.041),
        PagePlan("/collections/hydration-packs", 280, 1.12, 0.66, 0.029),
        PagePlan("/blog/how-to-choose-trail-running-shoes", 690, 1.42, 0.88, 0.009),
        PagePlan("/blog/marathon-training-plan-16-weeks", 820, 1.15, 0.91, 0.004),
        PagePlan("/blog/best-running-socks-for-blisters", 240, 1.05, 0.86, 0.007),
        PagePlan("/blog/trail-running-for-beginners", 410, 1.3, 0.9, 0.006),
        PagePlan("/pages/size-guide", 350, 1.0, 0.22, 0.015),
        PagePlan("/pages/returns", 190, 0.98, 0.12, 0.0),
    ),
    keywords=(
        KeywordPlan("trail running shoes", "/collections/trail-running-shoes", 49500, (14, 8)),
        KeywordPlan("best trail running shoes", "/blog/how-to-choose-trail-running-shoes", 22200,
                    (19, 11)),
        KeywordPlan("waterproof trail running shoes", "/collections/trail-running-shoes", 8100,
                    (9, 5)),
        KeywordPlan("road running shoes", "/collections/road-running-shoes", 33100, (12, 12)),
        KeywordPlan("cushioned running shoes", "/products/cloudline-road-shoe", 18100, (7, 9)),
        KeywordPlan("summit trail runner", "/products/summit-trail-runner", 2900, (2, 1)),
        KeywordPlan("summit trail runner review", "/products/summit-trail-runner", 1300, (6, 3)),
        KeywordPlan("cloudline road shoe", "/products/cloudline-road-shoe", 1900, (1, 1)),
        KeywordPlan("running jacket", "/collections/running-jackets", 14800, (6, 13)),
        KeywordPlan("waterproof running jacket", "/products/stormshell-jacket", 9900, (4, 10)),
        KeywordPlan("lightweight running jacket", "/collections/running-jackets", 5400, (11, 17)),
        KeywordPlan("hydration pack for running", "/collections/hydration-packs", 6600, (16, 9)),
        KeywordPlan("running vest hydration", "/collections/hydration-packs", 4400, (22, 15)),
        KeywordPlan("how to choose trail running shoes", "/blog/how-to-choose-trail-running-shoes",
                    3600, (8, 2)),
        KeywordPlan("trail vs road running shoes", "/blog/how-to-choose-trail-running-shoes",
                    2400, (13, 6)),
        KeywordPlan("marathon training plan", "/blog/marathon-training-plan-16-weeks", 40500,
                    (11, 7)),
        KeywordPlan("16 week marathon training plan", "/blog/marathon-training-plan-16-weeks",
                    6600, (5, 4)),
        KeywordPlan("marathon training schedule", "/blog/marathon-training-plan-16-weeks", 12100,
                    (15, 13)),
        KeywordPlan("running socks blisters", "/blog/best-running-socks-for-blisters", 2900,
                    (9, 14)),
        KeywordPlan("best running socks", "/blog/best-running-socks-for-blisters", 9900, (24, 21)),
        KeywordPlan("trail running for beginners", "/blog/trail-running-for-beginners", 5400,
                    (17, 8)),
        KeywordPlan("beginner trail running tips", "/blog/trail-running-for-beginners", 1600,
                    (12, 6)),
        KeywordPlan("running shoe size guide", "/pages/size-guide", 3600, (7, 7)),
        KeywordPlan("acme running", "/", 6600, (1, 1)),
        KeywordPlan("acme running shoes", "/", 2400, (1, 1)),
        KeywordPlan("acme returns", "/pages/returns", 880, (2, 2)),
        KeywordPlan("carbon plate running shoes", "/products/cloudline-road-shoe", 12100,
                    (38, 31)),
        KeywordPlan("zero drop trail shoes", "/collections/trail-running-shoes", 4400, (27, 35)),
        KeywordPlan("ultralight running gear", "/", 1300, (45, 52)),
        KeywordPlan("trail running gear list", "/blog/trail-running-for-beginners", 1900,
                    (21, 12)),
    ),
    content=ACME_CONTENT,
    topic_engagement={
        "trail running": 0.071,
        "marathon training": 0.052,
        "community": 0.064,
        "gear care": 0.046,
        "product launch": 0.039,
        "sustainability": 0.033,
        "sale": 0.028,
    },
    segments=(
        SegmentPlan("VIP customers", "Five or more orders, or over $600 spent",
                    (1840, 1975), (0.06, 0.05), (612, 640)),
        SegmentPlan("Repeat buyers", "Two to four orders in the last year",
                    (9200, 9870), (0.14, 0.13), (238, 246)),
        SegmentPlan("First-time buyers", "One order, in the last 90 days",
                    (6400, 7900), (0.2, 0.38), (84, 79)),
        SegmentPlan("Lapsed 90+ days", "No order for more than 90 days",
                    (12300, 13650), (0.61, 0.66), (142, 139)),
        SegmentPlan("Trail runners", "Bought trail shoes or gear",
                    (5100, 6350), (0.11, 0.09), (305, 322)),
        SegmentPlan("Newsletter only", "Subscribed, never ordered",
                    (22400, 24100), (0.18, 0.2), (0, 0)),
        SegmentPlan("Discount seekers", "Ordered only during sales",
                    (4300, 4650), (0.27, 0.26), (96, 101)),
    ),
)  # fmt: skip

GLOBEX = Business(
    domain="https://globex.example",
    week=B2B_WEEK,
    campaigns=(
        # Conversions are leads, valued at the pipeline a lead has brought on average.
        C(P.LINKEDIN, "Lead Gen Form - Free Trial", 300, "2.50", (4.6, 5.4), (0.0062, 0.0066),
          280, pacing=0.985),
        C(P.LINKEDIN, "ABM - Enterprise Ops Leaders", 350, "3.00", (3.1, 3.3), (0.0048, 0.005),
          420, pacing=0.74),
        C(P.GOOGLE_ADS, "Search - Competitor Terms", 150, "3.00", (2.7, 2.3), (0.038, 0.035),
          260, pacing=0.8),
        C(P.GOOGLE_ADS, "Search - Brand", 60, "5.00", (8.4, 8.0), (0.11, 0.11), 240, pacing=0.5),
        C(P.META, "Retargeting - Webinar Visitors", 80, "2.00", (2.0, 2.2), (0.009, 0.0094), 180,
          pacing=0.7),
        # Awareness on TikTok brings newsletter sign-ups, not buyers of operations software.
        C(P.TIKTOK, "Awareness - Ops Memes", 100, "1.50", (0.6, 0.35), (0.007, 0.005), 40,
          pacing=0.8),
    ),
    pages=(
        PagePlan("/", 1100, 1.06, 0.29, 0.012),
        PagePlan("/product/analytics", 520, 1.18, 0.46, 0.028),
        PagePlan("/product/automation", 430, 1.31, 0.5, 0.025),
        PagePlan("/pricing", 610, 1.08, 0.24, 0.061),
        PagePlan("/customers", 180, 1.0, 0.31, 0.009),
        PagePlan("/integrations/salesforce", 240, 1.22, 0.72, 0.018),
        PagePlan("/blog/operations-kpis", 390, 1.44, 0.93, 0.006),
        PagePlan("/blog/workflow-automation-guide", 470, 0.82, 0.9, 0.008),
        PagePlan("/blog/inventory-forecasting", 210, 1.12, 0.89, 0.005),
        PagePlan("/compare/globex-vs-initech", 160, 1.35, 0.64, 0.034),
        PagePlan("/demo", 260, 1.1, 0.18, 0.12),
    ),
    keywords=(
        KeywordPlan("operations analytics software", "/product/analytics", 5400, (11, 6)),
        KeywordPlan("workflow automation software", "/product/automation", 14800, (16, 9)),
        KeywordPlan("workflow automation", "/blog/workflow-automation-guide", 27100, (8, 14)),
        KeywordPlan("operations kpis", "/blog/operations-kpis", 4400, (13, 4)),
        KeywordPlan("operational metrics examples", "/blog/operations-kpis", 1900, (19, 9)),
        KeywordPlan("inventory forecasting", "/blog/inventory-forecasting", 6600, (12, 10)),
        KeywordPlan("salesforce operations integration", "/integrations/salesforce", 880, (5, 3)),
        KeywordPlan("globex vs initech", "/compare/globex-vs-initech", 590, (4, 1)),
        KeywordPlan("initech alternatives", "/compare/globex-vs-initech", 1300, (14, 7)),
        KeywordPlan("globex pricing", "/pricing", 1000, (1, 1)),
        KeywordPlan("globex", "/", 8100, (1, 1)),
        KeywordPlan("ops automation platform", "/product/automation", 2400, (21, 18)),
        KeywordPlan("business process automation tools", "/product/automation", 9900, (33, 26)),
        KeywordPlan("supply chain analytics", "/product/analytics", 12100, (29, 37)),
        KeywordPlan("operations dashboard", "/product/analytics", 3600, (9, 12)),
        KeywordPlan("request a demo operations software", "/demo", 320, (6, 5)),
        KeywordPlan("operations software for manufacturers", "/customers", 720, (17, 12)),
        KeywordPlan("no code workflow builder", "/product/automation", 6600, (24, 30)),
        KeywordPlan("forecasting software", "/blog/inventory-forecasting", 8100, (15, 11)),
        KeywordPlan("kpi dashboard examples", "/blog/operations-kpis", 5400, (10, 5)),
    ),
    content=GLOBEX_CONTENT,
    topic_engagement={
        "operations": 0.031,
        "automation": 0.036,
        "forecasting": 0.027,
        "customer stories": 0.044,
        "product": 0.022,
        "events": 0.025,
        "hiring": 0.049,
    },
    segments=(
        SegmentPlan("Enterprise accounts", "Over 1,000 employees, annual contract",
                    (142, 151), (0.07, 0.06), (186000, 192500)),
        SegmentPlan("Mid-market accounts", "100 to 1,000 employees",
                    (611, 668), (0.12, 0.11), (41200, 42800)),
        SegmentPlan("Self-serve SMB", "Card-paying teams under 100 seats",
                    (2380, 2710), (0.24, 0.23), (3900, 4050)),
        SegmentPlan("Free trial users", "In a 14-day trial",
                    (930, 1180), (0.55, 0.52), (0, 0)),
        SegmentPlan("Renewals due in 90 days", "Contracts renewing within 90 days",
                    (88, 104), (0.21, 0.36), (52500, 50800)),
    ),
)  # fmt: skip

BUSINESSES = {"acme": ACME, "globex": GLOBEX}


def _along(pair: tuple[float, float], progress: float) -> float:
    start, end = pair
    return start + (end - start) * progress


def _money(value: float) -> Decimal:
    return Decimal(str(round(max(value, 0.0), 2))).quantize(CENTS)


def _whole(rng: random.Random, value: float) -> int:
    """Rounds at random in proportion to the fraction, so small daily counts add up right."""
    floor = math.floor(max(value, 0.0))
    return floor + (1 if rng.random() < value - floor else 0)


def _days(today: date) -> list[date]:
    """The history, oldest first, ending yesterday."""
    return [today - timedelta(days=HISTORY_DAYS - i) for i in range(HISTORY_DAYS)]


class Seeder:
    def __init__(self, *, tenant: Tenant, business: Business, today: date) -> None:
        self.tenant = tenant
        self.business = business
        self.today = today
        self.days = _days(today)
        self.rng = random.Random(f"engarde-demo:marketing:{tenant.slug}")  # noqa: S311
        self.created: Counter[str] = Counter()

    def progress_of(self, index: int) -> float:
        return index / (HISTORY_DAYS - 1)

    def seed(self) -> Counter[str]:
        # Every part is planned whatever is stored, so the random stream, hence the history,
        # is the same on every run.
        self.campaigns()
        self.seo()
        self.content()
        self.segments()
        return self.created

    def campaigns(self) -> None:
        stored = {(c.platform, c.name): c for c in Campaign.objects.filter(tenant=self.tenant)}
        new = [
            Campaign(
                tenant=self.tenant,
                platform=plan.platform,
                name=plan.name,
                status=plan.status,
                daily_budget=Decimal(plan.daily_budget),
                target_roas=Decimal(plan.target_roas),
            )
            for plan in self.business.campaigns
            if (plan.platform, plan.name) not in stored
        ]
        Campaign.objects.bulk_create(new)
        self.created["campaigns"] += len(new)
        stored.update({(c.platform, c.name): c for c in new})
        have = set(
            CampaignDay.objects.filter(campaign__tenant=self.tenant).values_list(
                "campaign_id", "date"
            )
        )
        rows = []
        for plan in self.business.campaigns:
            campaign = stored[(plan.platform, plan.name)]
            for row in self.campaign_days(plan, campaign):
                if (campaign.pk, row.date) not in have:
                    rows.append(row)
        CampaignDay.objects.bulk_create(rows, batch_size=1000)
        self.created["campaign days"] += len(rows)

    def campaign_days(self, plan: CampaignPlan, campaign: Campaign) -> list[CampaignDay]:
        rng = self.rng
        rows = []
        last = HISTORY_DAYS - plan.stopped_days_ago
        # Conversions carry their fractions from day to day, so a week holds the conversions
        # its spend and ROAS imply, give or take one, however small the daily numbers.
        carry = 0.0
        for index, day in enumerate(self.days[:last]):
            progress = self.progress_of(index)
            if index >= HISTORY_DAYS - plan.overspend_days:
                budget_share = rng.uniform(1.22, 1.42)
            else:
                # Platforms pace to the budget: spend moves around the plan, never above it.
                budget_share = min(plan.pacing * rng.uniform(0.93, 1.07), 1.0)
            spend = plan.daily_budget * budget_share
            cpm = plan.cpm or CPM[plan.platform]
            impressions = int(spend / cpm * 1000 * rng.uniform(0.9, 1.1))
            clicks = min(_whole(rng, impressions * _along(plan.ctr, progress)), impressions)
            roas = _along(plan.roas, progress) * self.business.week[day.weekday()]
            carry += spend * roas / plan.order_value * rng.uniform(0.85, 1.15)
            conversions = min(math.floor(carry), clicks)
            carry -= conversions
            revenue = conversions * plan.order_value * rng.uniform(0.88, 1.12)
            rows.append(
                CampaignDay(
                    campaign=campaign,
                    date=day,
                    spend=_money(spend),
                    impressions=impressions,
                    clicks=clicks,
                    conversions=conversions,
                    revenue=_money(revenue),
                )
            )
        return rows

    def seo(self) -> None:
        rng = self.rng
        domain = self.business.domain
        have_pages = set(PageTraffic.objects.filter(tenant=self.tenant).values_list("url", "date"))
        pages = []
        for page in self.business.pages:
            url = f"{domain}{page.path}"
            for index, day in enumerate(self.days):
                weekly = self.business.week[day.weekday()]
                sessions = _whole(
                    rng,
                    page.sessions
                    * _along((1.0, page.growth), self.progress_of(index))
                    * weekly
                    * rng.uniform(0.88, 1.12),
                )
                organic = min(_whole(rng, sessions * page.organic_share * rng.uniform(0.95, 1.05)),
                              sessions)  # fmt: skip
                conversions = _whole(rng, sessions * page.conversion_rate * rng.uniform(0.7, 1.3))
                if (url, day) not in have_pages:
                    pages.append(
                        PageTraffic(
                            tenant=self.tenant,
                            url=url,
                            date=day,
                            sessions=sessions,
                            organic_sessions=organic,
                            conversions=conversions,
                        )
                    )
        PageTraffic.objects.bulk_create(pages, batch_size=1000)
        self.created["page traffic rows"] += len(pages)

        have_keywords = set(
            KeywordRanking.objects.filter(tenant=self.tenant).values_list("keyword", "date")
        )
        rankings = []
        for plan in self.business.keywords:
            # Rankings wander by a place or two a day around their course, more so far down.
            jitter = 0 if plan.position[0] <= 2 else 1 if plan.position[0] < 20 else 3
            for index, day in enumerate(self.days):
                course = _along(plan.position, self.progress_of(index))
                position = round(course + rng.uniform(-jitter, jitter))
                # The last week holds its course, so "where were we a week ago" reads cleanly.
                if index >= HISTORY_DAYS - 8:
                    position = round(course)
                if (plan.keyword, day) not in have_keywords:
                    rankings.append(
                        KeywordRanking(
                            tenant=self.tenant,
                            keyword=plan.keyword,
                            date=day,
                            position=min(max(position, 1), 100),
                            search_volume=plan.volume,
                            url=f"{domain}{plan.page}",
                        )
                    )
        KeywordRanking.objects.bulk_create(rankings, batch_size=1000)
        self.created["keyword rankings"] += len(rankings)

    def content(self) -> None:
        rng = self.rng
        have = set(ContentItem.objects.filter(tenant=self.tenant).values_list("kind", "title"))
        items = []
        plans = self.business.content
        # The last five planned are in the works (three scheduled, two drafts); the others
        # were published over the history, in an order shuffled across formats and topics.
        published = len(plans) - 5
        order = list(range(published))
        rng.shuffle(order)
        for number, plan in enumerate(plans):
            if number >= len(plans) - 2:
                status, published_at = ContentStatus.DRAFT, None
            elif number >= published:
                status = ContentStatus.SCHEDULED
                published_at = self.moment(self.today + timedelta(days=rng.randint(1, 12)))
            else:
                status = ContentStatus.PUBLISHED
                days_ago = HISTORY_DAYS - (order[number] * HISTORY_DAYS) // published
                published_at = self.moment(self.today - timedelta(days=days_ago))
            impressions = engagements = clicks = shares = 0
            if status == ContentStatus.PUBLISHED:
                reach = {"email": 18000, "blog": 6500, "youtube": 9000, "tiktok": 21000}
                impressions = int(reach.get(plan.channel, 12000) * rng.uniform(0.45, 1.8))
                rate = self.business.topic_engagement[plan.topic] * rng.uniform(0.7, 1.3)
                engagements = int(impressions * rate)
                clicks = int(impressions * rng.uniform(0.004, 0.03))
                shares = int(engagements * rng.uniform(0.03, 0.12))
            if (plan.kind, plan.title) in have:
                continue
            items.append(
                ContentItem(
                    tenant=self.tenant,
                    title=plan.title,
                    kind=plan.kind,
                    channel=plan.channel,
                    topic=plan.topic,
                    status=status,
                    published_at=published_at,
                    impressions=impressions,
                    engagements=engagements,
                    clicks=clicks,
                    shares=shares,
                )
            )
        ContentItem.objects.bulk_create(items)
        self.created["content items"] += len(items)

    def moment(self, day: date) -> datetime:
        hour = self.rng.choice((7, 9, 12, 15, 18))
        return datetime.combine(day, time(hour, self.rng.choice((0, 15, 30, 45))), tzinfo=UTC)

    def segments(self) -> None:
        rng = self.rng
        stored = {s.name: s for s in AudienceSegment.objects.filter(tenant=self.tenant)}
        new = [
            AudienceSegment(tenant=self.tenant, name=plan.name, description=plan.description)
            for plan in self.business.segments
            if plan.name not in stored
        ]
        AudienceSegment.objects.bulk_create(new)
        self.created["segments"] += len(new)
        stored.update({s.name: s for s in new})
        have = set(
            SegmentDay.objects.filter(segment__tenant=self.tenant).values_list("segment_id", "date")
        )
        rows = []
        for plan in self.business.segments:
            segment = stored[plan.name]
            for index, day in enumerate(self.days):
                progress = self.progress_of(index)
                size = int(_along(plan.size, progress) * rng.uniform(0.995, 1.005))
                churn = min(max(_along(plan.churn, progress) + rng.uniform(-0.006, 0.006), 0), 1)
                ltv = _along(plan.ltv, progress) * rng.uniform(0.99, 1.01)
                if (segment.pk, day) not in have:
                    rows.append(
                        SegmentDay(
                            segment=segment,
                            date=day,
                            size=size,
                            churn_risk=Decimal(str(round(churn, 3))),
                            ltv=_money(ltv),
                        )
                    )
        SegmentDay.objects.bulk_create(rows, batch_size=1000)
        self.created["segment days"] += len(rows)


def demo_agents_enable(*, tenant: Tenant) -> list[AgentInstance]:
    """Every catalogue agent for the tenant, and as many Walker agents on as its plan allows,
    in catalogue order. An agent someone turned off is turned back on only while the plan has
    room. The personal agent (daily briefs) counts toward no limit: it is always on."""
    instances = sorted(tenant_agents_provision(tenant=tenant), key=lambda i: i.agent_id)
    limit = tenant.limits.walker_agents
    walkers = [i for i in instances if i.agent.counts_toward_limit]
    wanted = walkers if limit is None else walkers[:limit]
    enabled = sum(1 for i in walkers if i.enabled)
    for instance in wanted:
        if not instance.enabled and (limit is None or enabled < limit):
            agent_instance_update(instance=instance, enabled=True)
            enabled += 1
    for instance in instances:
        if not instance.agent.counts_toward_limit and not instance.enabled:
            agent_instance_update(instance=instance, enabled=True)
    return [i for i in instances if i.enabled]


def demo_marketing_seed(
    *, tenants: dict[str, Tenant], today: date, progress: Progress
) -> Counter[str]:
    """Per demo tenant: its agents, then sixty days of marketing data up to yesterday. Returns
    the rows created."""
    created: Counter[str] = Counter()
    for slug, tenant in tenants.items():
        business = BUSINESSES.get(slug)
        if business is None:
            continue
        with transaction.atomic():
            enabled = demo_agents_enable(tenant=tenant)
            made = Seeder(tenant=tenant, business=business, today=today).seed()
        created += made
        limit = tenant.limits.walker_agents
        walkers = sum(1 for i in enabled if i.agent.counts_toward_limit)
        new = ", ".join(f"{count} {name}" for name, count in made.items() if count) or "nothing"
        progress(
            f"Marketing data for {slug} ... ok ({walkers} of "
            f"{'unlimited' if limit is None else limit} Walker agents on; created: {new})"
        )
    return created
