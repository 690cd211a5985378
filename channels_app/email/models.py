"""Email briefs: each person's preferences, every email sent and what the ESP said about it, and
the scheduled runs that send the briefs. Imported by channels_app.models (the app's models).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Tenant, validate_time_zone
from accounts.tenancy import TenantQuerySet
from privacy.fields import (
    BlindIndexedModelMixin,
    BlindIndexField,
    EncryptedEmailField,
    EncryptedTextField,
)
from privacy.masking import mask_email


class Section(models.TextChoices):
    PAID_ADS = "paid_ads", "Paid ads"
    SEO = "seo", "SEO & organic"
    CONTENT = "content", "Content"
    AUDIENCE = "audience", "Audience"
    ACTION_ITEMS = "action_items", "Action items"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly, on one weekday"
    CUSTOM = "custom", "On chosen weekdays"


class DigestFormat(models.TextChoices):
    FULL = "full", "Full"
    SUMMARY = "summary", "Summary"
    BULLET_POINTS = "bullet_points", "Bullet points"


class DisabledReason(models.TextChoices):
    NONE = "", "-"
    USER = "user", "Turned off"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Address bounced"
    COMPLAINED = "complained", "Marked as spam"


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_DELIVERY_TIME = time(8, 0)


def default_sections() -> list[str]:
    return list(Section.values)


class EmailPreferences(BlindIndexedModelMixin, models.Model):
    """How and when one person gets their brief (the PRD's user_email_preferences).

    `next_send_at` is the UTC instant of the next brief, computed from the delivery time in the
    preferences' own time zone; the scheduler reads only the rows it has reached, so its work
    grows with the briefs due, not with the people subscribed.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    enabled = models.BooleanField(default=True)
    delivery_time = models.TimeField(default=DEFAULT_DELIVERY_TIME, help_text="Local time.")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(6)],
        help_text="Weekly briefs: 0 is Monday, 6 is Sunday.",
    )
    custom_days = models.JSONField(
        default=list, blank=True, help_text="Custom frequency: the weekdays, 0 is Monday."
    )
    sections = models.JSONField(default=default_sections)
    min_priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    digest_format = models.CharField(
        max_length=16, choices=DigestFormat.choices, default=DigestFormat.FULL
    )
    email = EncryptedEmailField(blank=True, help_text="Empty: the account's email address.")
    email_hash = BlindIndexField(source="email", purpose="email", db_index=True)
    next_send_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason.choices, blank=True, default=DisabledReason.NONE
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_lookup = "user__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "email preferences"
        verbose_name_plural = "email preferences"
        constraints = [
            models.CheckConstraint(
                condition=~Q(frequency="weekly") | Q(weekday__isnull=False),
                name="weekly_brief_has_a_weekday",
                violation_error_message="A weekly brief needs its weekday.",
            ),
            models.CheckConstraint(
                condition=Q(weekday__isnull=True) | Q(weekday__lte=6),
                name="brief_weekday_0_to_6",
            ),
        ]
        indexes = [
            models.Index(fields=["next_send_at"], condition=Q(enabled=True), name="brief_due"),
        ]

    def __str__(self) -> str:
        return f"Email preferences of {self.user}"

    @property
    def address(self) -> str:
        return self.email or self.user.email

    @property
    def weekdays(self) -> frozenset[int]:
        """The weekdays (0 is Monday) a brief goes out on."""
        if self.frequency == Frequency.WEEKLY:
            return frozenset({self.weekday}) if self.weekday is not None else frozenset()
        if self.frequency == Frequency.CUSTOM:
            return frozenset(self.custom_days)
        return frozenset(range(7))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not isinstance(self.sections, list) or not set(self.sections) <= set(Section.values):
            errors["sections"] = f"Choose among {', '.join(Section.values)}."
        days = self.custom_days
        if not isinstance(days, list) or any(
            not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days
        ):
            errors["custom_days"] = "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."
        elif self.frequency == Frequency.CUSTOM and not days:
            errors["custom_days"] = "A custom frequency needs at least one weekday."
        if self.frequency == Frequency.WEEKLY and self.weekday is None:
            errors["weekday"] = "A weekly brief needs its weekday."
        if errors:
            raise ValidationError(errors)

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.user.tenant_id}


class BriefRun(models.Model):
    """One tenant's briefs sent by one pass of the scheduler: how many were due and what became
    of them. Workers add to the counters as they finish their batches."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="brief_runs")
    started_at = models.DateTimeField(default=timezone.now)
    first_due_at = models.DateTimeField(help_text="The earliest delivery time in this run.")
    due = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The batches already added to the counters: a batch a worker runs again adds nothing.
    counted_batches = models.JSONField(default=list, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-started_at"], name="brief_run_tenant_time")]

    def __str__(self) -> str:
        return f"Brief run #{self.pk} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def done(self) -> int:
        return self.sent + self.skipped + self.failed

    @property
    def progress_percent(self) -> int:
        return 100 if not self.due else min(100, self.done * 100 // self.due)

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


class EmailSend(BlindIndexedModelMixin, models.Model):
    """One email: a daily brief (at most one per person and brief date) or a custom email, with
    the ESP that took it, its message id and what its tracking events said since."""

    class Kind(models.TextChoices):
        DAILY_BRIEF = "daily_brief", "Daily brief"
        CUSTOM = "custom", "Custom email"

    class Status(models.TextChoices):
        SENDING = "sending", "Being sent"
        SENT = "sent", "Accepted by the ESP"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed (ESPs unavailable)"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="email_sends")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_sends"
    )
    run = models.ForeignKey(
        BriefRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="sends"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    template = models.CharField(max_length=32)
    brief_date = models.DateField(null=True, blank=True, help_text="In the person's time zone.")
    to_email = EncryptedEmailField(blank=True)
    to_hash = BlindIndexField(source="to_email", purpose="email", db_index=True)
    # Encrypted: a custom email's subject is whatever staff wrote, names included.
    subject = EncryptedTextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENDING)
    esp = models.CharField(max_length=16, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    failed_over = models.BooleanField(
        default=False, help_text="The primary ESP failed and the backup sent it."
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Custom emails: who sent it.",
    )
    data = models.JSONField(default=dict, blank=True, help_text="Counts and flags, never PII.")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "brief_date"],
                condition=Q(kind="daily_brief"),
                name="one_brief_per_user_per_date",
                violation_error_message="This person already has a brief for this date.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="daily_brief") | Q(brief_date__isnull=False),
                name="brief_has_a_date",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="email_send_tenant_time"),
            models.Index(fields=["tenant", "sent_at"], name="email_send_tenant_sent"),
        ]

    def __str__(self) -> str:
        what = f"brief of {self.brief_date}" if self.brief_date else self.get_kind_display()
        return f"{what} to {mask_email(self.to_email)}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


class EmailEvent(models.Model):
    """A tracking event an ESP reported, stored once: ESPs deliver the same event more than once,
    and the unique key (the ESP's event id, or a digest of the event) makes a repeat a no-op."""

    send = models.ForeignKey(EmailSend, on_delete=models.CASCADE, related_name="events")
    esp = models.CharField(max_length=16)
    event_key = models.CharField(max_length=128)
    event_type = models.CharField(max_length=24)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True, help_text="Reason codes, never addresses.")

    tenant_lookup = "send__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["esp", "event_key"], name="email_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


auditlog.register(
    EmailPreferences,
    mask_fields=["email"],
    exclude_fields=["email_hash", "next_send_at", "updated_at"],
)
