"""The analytics' daily rollups (monitoring.analytics says how each figure is defined) and the
user-activity page's proxy."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from accounts.models import Tenant, User
from accounts.tenancy import TenantQuerySet


class RollupDay(models.Model):
    """One local day of one tenant, rolled up. Its rows are the day's figures per channel and
    agent; a day without activity has none, and this row still says it was computed, so that
    the nightly backfill does not compute it again."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="rollup_days")
    day = models.DateField()
    time_zone = models.CharField(max_length=64, help_text="The zone the day was cut in.")
    computed_at = models.DateTimeField()
    # The whole day's response-time percentiles, exact: the rows' own cannot be combined.
    replies_timed = models.PositiveIntegerField(default=0)
    response_p50 = models.PositiveIntegerField(null=True, blank=True)
    response_p95 = models.PositiveIntegerField(null=True, blank=True)
    response_p99 = models.PositiveIntegerField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="rollup_day_once"),
        ]

    def __str__(self) -> str:
        return f"Rollup of {self.day:%Y-%m-%d}"


class DailyRollup(models.Model):
    """One tenant's figures for one local day, one channel and one agent. A blank channel holds
    what has none (an agent run from the API, an approval a person filed); a blank agent type,
    what no agent handled yet. Sums and counts add up over days and dimensions; the percentiles
    of a row do not, and `response_histogram` (counts per bucket of
    monitoring.analytics.histogram.EDGES_MS) is what combines into a period's."""

    rollup_day = models.ForeignKey(RollupDay, on_delete=models.CASCADE, related_name="rows")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="daily_rollups")
    day = models.DateField()
    channel = models.CharField(max_length=16, blank=True)
    agent_type = models.CharField(max_length=32, blank=True)

    conversations_started = models.PositiveIntegerField(default=0)
    conversations_active = models.PositiveIntegerField(
        default=0, help_text="Conversations with a message that day."
    )
    conversations_settled = models.PositiveIntegerField(
        default=0, help_text="Of those started that day, the ones whose outcome is known."
    )
    conversations_resolved = models.PositiveIntegerField(default=0)
    conversations_escalated = models.PositiveIntegerField(default=0)

    messages_user = models.PositiveIntegerField(default=0)
    messages_agent = models.PositiveIntegerField(default=0)
    messages_human = models.PositiveIntegerField(default=0)

    replies_timed = models.PositiveIntegerField(default=0)
    response_ms_sum = models.PositiveBigIntegerField(default=0)
    response_ms_max = models.PositiveIntegerField(default=0)
    response_p50 = models.PositiveIntegerField(null=True, blank=True)
    response_p95 = models.PositiveIntegerField(null=True, blank=True)
    response_p99 = models.PositiveIntegerField(null=True, blank=True)
    response_histogram = models.JSONField(default=list, blank=True)

    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)

    approvals_created = models.PositiveIntegerField(default=0)
    approvals_approved = models.PositiveIntegerField(default=0)
    approvals_rejected = models.PositiveIntegerField(default=0)
    approvals_expired = models.PositiveIntegerField(default=0)
    decisions_timed = models.PositiveIntegerField(default=0)
    decision_seconds_sum = models.PositiveBigIntegerField(default=0)
    sla_total = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)

    runs = models.PositiveIntegerField(default=0)
    runs_failed = models.PositiveIntegerField(default=0)
    runs_reviewed = models.PositiveIntegerField(default=0)
    confidence_count = models.PositiveIntegerField(default=0)
    confidence_sum = models.FloatField(default=0)
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    agent_cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))

    whatsapp_messages = models.PositiveIntegerField(default=0)
    whatsapp_price_usd = models.DecimalField(
        max_digits=8, decimal_places=5, default=Decimal(0), help_text="Per message, by tier."
    )
    whatsapp_cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "channel", "agent_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "channel", "agent_type"], name="daily_rollup_once"
            ),
            models.CheckConstraint(
                condition=Q(csat_sum__lte=5 * models.F("csat_count")),
                name="daily_rollup_csat_within_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.channel or 'no channel'} {self.agent_type or '-'}"

    @property
    def csat_average(self) -> float | None:
        return round(self.csat_sum / self.csat_count, 2) if self.csat_count else None

    @property
    def cost_usd(self) -> Decimal:
        return self.agent_cost_usd + self.whatsapp_cost_usd


class UserActivity(User):
    """The users page of the console: per person, their channels, conversations, last activity,
    messages, approvals requested and CSAT (monitoring.admin)."""

    class Meta:
        proxy = True
        verbose_name = "user activity"
        verbose_name_plural = "user activity"
