from __future__ import annotations

import uuid
from typing import Any

import pgtrigger
from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.tenancy import TenantQuerySet
from privacy.fields import EncryptedTextField

# The PRD's retention for access logs: seven years. The database refuses an earlier delete.
ACCESS_LOG_RETENTION_DAYS = 2555


class ChannelConsent(models.Model):
    """Whether a person agreed to hear from the agents on a channel (WhatsApp's STOP/START)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_consents"
    )
    channel = models.CharField(max_length=16)
    opted_out = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)

    tenant_lookup = "user__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="one_consent_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.channel}: {'opted out' if self.opted_out else 'opted in'}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.user.tenant_id}

    @classmethod
    def is_opted_out(cls, *, user_id: int, channel: str) -> bool:
        return cls.objects.filter(user_id=user_id, channel=channel, opted_out=True).exists()


class ConsentRecord(models.Model):
    """One change of a person's consent, kept as history: what they agreed to or refused, on
    which channel, for which purpose, when and through what. ChannelConsent is the current
    state the channels read; this is the trail the export and the admin show."""

    class Purpose(models.TextChoices):
        CONVERSATIONS = "conversations", "Conversations with the agents"
        BRIEFS = "briefs", "Daily email briefs"

    class Source(models.TextChoices):
        WHATSAPP_KEYWORD = "whatsapp_keyword", "WhatsApp STOP/START"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link"
        SETTINGS = "settings", "Settings"
        ADMIN = "admin", "Changed by an admin"
        ESP_EVENT = "esp_event", "Email provider (complaint or unsubscribe)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_records"
    )
    channel = models.CharField(max_length=16)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=24, choices=Source.choices)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)

    tenant_lookup = "user__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        verb = "opted in to" if self.granted else "opted out of"
        return f"{self.user} {verb} {self.get_purpose_display()} on {self.channel}"


class AdminAccessLog(models.Model):
    """One read or change of a person's data by a member of staff: the PRD's admin_access_logs.

    Append-only for everyone, platform superusers included: the admin is read-only, and on
    PostgreSQL a trigger refuses any UPDATE, and any DELETE of a row younger than the retention
    period (2,555 days), whoever sends it."""

    class Action(models.TextChoices):
        VIEW_CONVERSATION = "view_conversation", "Viewed a conversation"
        REVEAL_PII = "reveal_pii", "Revealed personal data"
        SEARCH_CONVERSATIONS = "search_conversations", "Searched conversations"
        VIEW_APPROVAL = "view_approval", "Viewed an approval"
        VIEW_USER = "view_user", "Viewed a person"
        EXPORT_DATA = "export_data", "Exported a person's data"
        DOWNLOAD_EXPORT = "download_export", "Downloaded an export"
        ERASE_DATA = "erase_data", "Erased a person's data"
        READ_ACCESS_LOG = "read_access_log", "Read the access log"
        TAKEOVER = "takeover", "Took over a conversation"
        HUMAN_REPLY = "human_reply", "Replied as a human"
        HANDBACK = "handback", "Handed a conversation back"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    admin_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    resource_type = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=64, blank=True)
    pii_accessed = models.BooleanField(default=False)
    # The PRD keeps IP addresses hashed: a keyed HMAC (PII_HASH_KEY), so equal IPs match.
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    justification = models.TextField(blank=True)

    tenant_lookup = "tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        indexes = [
            models.Index(fields=["tenant", "-timestamp"], name="access_log_tenant_recent"),
            models.Index(fields=["resource_type", "resource_id"], name="access_log_resource"),
        ]
        triggers = [
            pgtrigger.Protect(name="access_log_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(
                name="access_log_no_early_delete",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition(
                    f"OLD.timestamp > now() - interval '{ACCESS_LOG_RETENTION_DAYS} days'"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.resource_type} {self.resource_id}"


class DataRequest(models.Model):
    """A data subject's request (GDPR art. 15/20 export, art. 17 erasure) and how it went."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASURE = "erasure", "Erasure"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # An export's JSON until it expires (then emptied), encrypted like every other PII.
    payload = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    tenant_lookup = "tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.subject} ({self.get_status_display()})"


class RetentionRun(models.Model):
    """One pass of the retention policies: what each removed or anonymised."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    # {policy name: rows removed or anonymised (or that would be, on a dry run)}
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Retention run of {self.started_at:%Y-%m-%d %H:%M}"


auditlog.register(ChannelConsent)
auditlog.register(ConsentRecord)
