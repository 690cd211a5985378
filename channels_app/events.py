"""The event log: one row per step of a message's life, and everything else worth counting.

It belongs to the conversation core, so every layer at or above it (the turn engine, the
channels, the console) writes here through `event_record`; the console only reads. `data` holds
no PII: ids, counts, timings and statuses. Dashboards read events, not the hot tables.

The table keeps the name it had when the log lived in `monitoring`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet

if TYPE_CHECKING:
    from channels_app.models import Conversation, Message


class EventKind(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", "Message received"
    AGENT_ROUTED = "agent.routed", "Agent routed"
    REPLY_SENT = "reply.sent", "Reply sent"
    REPLY_HELD = "reply.held", "Reply held for approval"
    DELIVERY_UPDATED = "delivery.updated", "Delivery status updated"
    TURN_FAILED = "turn.failed", "Turn failed"
    HUMAN_TAKEOVER = "human.takeover", "Human took over"
    HUMAN_REPLY = "human.reply", "Human replied"
    HUMAN_HANDBACK = "human.handback", "Handed back to the agent"
    APPROVAL_DECIDED = "approval.decided", "Approval decided"
    EMAIL_SENT = "email.sent", "Email sent"
    WHATSAPP_KEYWORD = "whatsapp.keyword", "WhatsApp keyword (STOP/START/HELP)"
    WHATSAPP_QUOTA = "whatsapp.quota", "WhatsApp daily quota reached"
    PRIORITY_ALERT = "priority.alert", "High priority waiting: team told"
    CSAT_ASKED = "csat.asked", "Rating asked for"
    CSAT_RECORDED = "csat.recorded", "Rating recorded"


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
        app_label = "channels_app"
        db_table = "monitoring_event"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="event_tenant_time"),
            models.Index(fields=["tenant", "kind", "-created_at"], name="event_tenant_kind"),
            models.Index(fields=["tenant", "channel", "-created_at"], name="event_tenant_channel"),
            models.Index(fields=["tenant", "agent_type", "-created_at"], name="event_tenant_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M:%S}"


def event_record(
    *,
    tenant: Tenant,
    kind: str,
    conversation: Conversation | None = None,
    message: Message | None = None,
    channel: str = "",
    agent_type: str = "",
    duration_ms: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Write one event. `data` must hold no PII: ids, counts, timings, statuses only."""
    if conversation is not None:
        channel = channel or conversation.channel
        agent_type = agent_type or conversation.current_agent_type
    return Event.objects.create(
        tenant=tenant,
        kind=kind,
        conversation=conversation,
        message=message,
        channel=channel,
        agent_type=agent_type,
        duration_ms=duration_ms,
        data=data or {},
    )
