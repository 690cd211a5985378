from __future__ import annotations

from datetime import datetime
from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet
from agents.types import AgentType
from privacy.fields import EncryptedTextField


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"


class Conversation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WAITING = "waiting", "Waiting for approval"
        HUMAN = "human", "Human took over"
        CLOSED = "closed", "Closed"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="conversations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    current_agent_type = models.CharField(max_length=32, choices=AgentType.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    message_count = models.PositiveIntegerField(default=0)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Priority routing (channels_app/triage.py): the rolling sentiment score, since when the
    # conversation has been high or urgent, and when the team was told it waits.
    sentiment_score = models.FloatField(null=True, blank=True)
    priority_since = models.DateTimeField(null=True, blank=True)
    priority_alerted_at = models.DateTimeField(null=True, blank=True)
    # Human takeover: who has the conversation while the bot is quiet, and since when.
    human_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    human_since = models.DateTimeField(null=True, blank=True)
    # Outcomes, measured: when a human was first needed (a reply held for review, a takeover),
    # when it was closed, and the person's 1-5 rating, asked for once.
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    csat_asked_at = models.DateTimeField(null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    csat_rated_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat_score__isnull=True) | Q(csat_score__gte=1, csat_score__lte=5),
                name="conversation_csat_between_1_and_5",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-last_activity_at"], name="conv_tenant_activity"),
            models.Index(
                fields=["tenant", "channel", "-last_activity_at"], name="conv_tenant_channel"
            ),
            models.Index(
                fields=["tenant", "current_agent_type", "-last_activity_at"],
                name="conv_tenant_agent",
            ),
            models.Index(
                fields=["tenant", "status", "-last_activity_at"], name="conv_tenant_status"
            ),
            models.Index(fields=["user", "channel", "-last_activity_at"], name="conv_user_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} conversation #{self.pk}"

    def message_added(self, *, at: datetime, **changes: object) -> None:
        """Count one more message and move the last activity, in the database: concurrent
        turns and webhooks add to the same conversation. `changes` are other fields to write in
        the same statement."""
        Conversation.objects.filter(pk=self.pk).update(
            message_count=F("message_count") + 1, last_activity_at=at, **changes
        )

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


class TurnState(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    CLAIMED = "claimed", "Being answered"
    DONE = "done", "Answered"
    SKIPPED = "skipped", "Not answered (opted out, over quota)"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class SenderKind(models.TextChoices):
        USER = "user", "User"
        AGENT = "agent", "Agent"
        HUMAN = "human", "Human operator"
        SYSTEM = "system", "System"

    class DeliveryStatus(models.TextChoices):
        RECEIVED = "received", "Received"
        HELD = "held", "Held for approval"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # The conversation's channel, repeated so that a provider's id is unique per channel.
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    sender_kind = models.CharField(max_length=16, choices=SenderKind.choices)
    body = EncryptedTextField(blank=True)
    provider_id = models.CharField(max_length=128, null=True, blank=True)
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    agent_type = models.CharField(max_length=32, choices=AgentType.choices, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Inbound messages: where their turn is. A worker claims one with a conditional update.
    turn_state = models.CharField(max_length=16, choices=TurnState.choices, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Agent replies and holding messages: the inbound message they answer.
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    # The last delivery failure, as the provider reported it.
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    tenant_lookup = "conversation__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                name="message_provider_id_unique_per_channel",
                violation_error_message="This provider message was already stored.",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0.0, confidence__lte=1.0),
                name="message_confidence_between_0_and_1",
            ),
        ]
        indexes = [
            # Covering the id: a conversation's message ids (the search's probes, the list's
            # last message) are read from the index alone.
            models.Index(
                fields=["conversation", "created_at"],
                include=["id"],
                name="msg_conversation_time_id",
            ),
            models.Index(fields=["channel", "delivery_status", "created_at"], name="msg_status"),
            models.Index(
                fields=["turn_state", "created_at"],
                condition=Q(turn_state__in=["pending", "claimed"]),
                name="msg_unfinished_turns",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message #{self.pk}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.conversation.tenant_id}


class MessageToken(models.Model):
    """The blind token index that makes encrypted message bodies searchable: one keyed HMAC per
    normalised word, phone number and email of a message (channels_app/search_index.py). No
    plaintext word is stored; without PII_HASH_KEY the tokens say nothing."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    token = models.BigIntegerField()

    tenant_lookup = "tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "token"], name="message_token_once"),
        ]
        # Covering: a search reads (token -> message ids) from the index alone, and two tokens'
        # sorted id lists intersect in a merge join.
        indexes = [models.Index(fields=["tenant", "token", "message"], name="message_token_lookup")]

    def __str__(self) -> str:
        return f"token of message #{self.message_id}"


class Bookmark(models.Model):
    """A message a person marked in their own chat, to find it again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(default=timezone.now)

    tenant_lookup = "message__conversation__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "message"],
                name="bookmark_once_per_message",
                violation_error_message="This message is already bookmarked.",
            ),
        ]

    def __str__(self) -> str:
        return f"Bookmark of message #{self.message_id}"


auditlog.register(Conversation)
auditlog.register(Message, mask_fields=["body"], exclude_fields=["metadata"])

# The event log and the email channel's models live in their own modules; importing them here
# registers them with the app.
from channels_app.email.models import (  # noqa: E402, F401
    BriefRun,
    EmailEvent,
    EmailPreferences,
    EmailSend,
)
from channels_app.events import Event  # noqa: E402, F401
