"""The event log: one row per step of a message's life, and everything else worth counting.

Lower layers (the turn engine, the channels, approvals) write here through
`monitoring.events.event_record`, which imports nothing from them: the log is a sink, so
writing to it does not bend the import order. Dashboards read events, not the hot tables.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet


class EventKind(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", "Message received"
    AGENT_ROUTED = "agent.routed", "Agent routed"
    REPLY_SENT = "reply.sent", "Reply sent"
    REPLY_HELD = "reply.held", "Reply held for approval"
    DELIVERY_UPDATED = "delivery.updated", "Delivery status updated"
    TURN_FAILED = "turn.failed", "Turn failed"
    HUMAN_TAKEOVER = "human.takeover", "Human took over"
    APPROVAL_DECIDED = "approval.decided", "Approval decided"
    EMAIL_SENT = "email.sent", "Email sent"
    WHATSAPP_KEYWORD = "whatsapp.keyword", "WhatsApp keyword (STOP/START/HELP)"
    WHATSAPP_QUOTA = "whatsapp.quota", "WhatsApp daily quota reached"


class Event(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    conversation = models.ForeignKey(
        "channels_app.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    message = models.ForeignKey(
        "channels_app.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    channel = models.CharField(max_length=16, blank=True)
    agent_type = models.CharField(max_length=32, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="event_tenant_time"),
            models.Index(fields=["tenant", "kind", "-created_at"], name="event_tenant_kind"),
            models.Index(fields=["tenant", "channel", "-created_at"], name="event_tenant_channel"),
            models.Index(fields=["tenant", "agent_type", "-created_at"], name="event_tenant_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M:%S}"
