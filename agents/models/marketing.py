"""The marketing data the agents read: ad campaigns, SEO, content and audiences, per tenant.

Daily figures are rows per day, so an answer can state a trend and every number it states can
be traced to rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet


class DecimalPlaces(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: DecimalPlaces = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Platform(models.TextChoices):
    META = "meta", "Meta"
    TIKTOK = "tiktok", "TikTok"
    GOOGLE_ADS = "google_ads", "Google Ads"
    LINKEDIN = "linkedin", "LinkedIn"


class Campaign(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="campaigns")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    daily_budget = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    target_roas = models.DecimalField(
        "target ROAS",
        max_digits=6,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=NON_NEGATIVE,
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "platform", "name"], name="campaign_name_unique_per_platform"
            ),
            models.CheckConstraint(condition=Q(daily_budget__gte=0), name="campaign_budget_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"


class CampaignDay(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    spend = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    impressions = models.PositiveBigIntegerField()
    clicks = models.PositiveBigIntegerField()
    conversions = models.PositiveIntegerField()
    revenue = models.DecimalField(**MONEY, validators=NON_NEGATIVE)

    tenant_lookup = "campaign__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "date"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="campaign_day_unique"),
            models.CheckConstraint(
                condition=Q(clicks__lte=F("impressions")), name="campaign_clicks_lte_impressions"
            ),
            models.CheckConstraint(
                condition=Q(spend__gte=0, revenue__gte=0), name="campaign_money_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["date"], name="campaign_day_date")]

    def __str__(self) -> str:
        return f"{self.campaign} on {self.date}"


class KeywordRanking(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="keyword_rankings")
    keyword = models.CharField(max_length=200)
    date = models.DateField()
    position = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    search_volume = models.PositiveIntegerField(help_text="Monthly searches.")
    url = models.CharField(max_length=500, blank=True, help_text="The page that ranks.")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["keyword", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "keyword", "date"], name="keyword_ranking_unique"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1, position__lte=100), name="keyword_position_1_to_100"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "date"], name="keyword_tenant_date")]

    def __str__(self) -> str:
        return f"{self.keyword} #{self.position} on {self.date}"


class PageTraffic(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="page_traffic")
    url = models.CharField(max_length=500)
    date = models.DateField()
    sessions = models.PositiveIntegerField()
    organic_sessions = models.PositiveIntegerField()
    conversions = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "page traffic"
        ordering = ["url", "date"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "url", "date"], name="page_traffic_unique"),
            models.CheckConstraint(
                condition=Q(organic_sessions__lte=F("sessions")),
                name="page_organic_lte_sessions",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "date"], name="page_tenant_date")]

    def __str__(self) -> str:
        return f"{self.url} on {self.date}"


class ContentItem(models.Model):
    class Kind(models.TextChoices):
        SOCIAL_POST = "social_post", "Social post"
        BLOG_ARTICLE = "blog_article", "Blog article"
        EMAIL_CAMPAIGN = "email_campaign", "Email campaign"
        VIDEO_SCRIPT = "video_script", "Video script"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="content_items")
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=32, help_text="Where it runs: instagram, blog, ...")
    topic = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    impressions = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0, help_text="Likes, comments, replies.")
    clicks = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "title"], name="content_title_unique_per_kind"
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_content_has_a_date",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-published_at"], name="content_tenant_time")]

    def __str__(self) -> str:
        return self.title


class AudienceSegment(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="segment_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SegmentDay(models.Model):
    """A segment as measured on one day: size, churn risk (0 to 1) and lifetime value."""

    segment = models.ForeignKey(AudienceSegment, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    size = models.PositiveIntegerField()
    churn_risk = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    ltv = models.DecimalField(**MONEY, validators=NON_NEGATIVE)

    tenant_lookup = "segment__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["segment", "date"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "date"], name="segment_day_unique"),
            models.CheckConstraint(
                condition=Q(churn_risk__gte=0, churn_risk__lte=1), name="segment_churn_0_to_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment} on {self.date}"
