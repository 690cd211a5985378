"""Receiving: every channel normalises what arrives to InboundMessage and calls message_receive.

Storing is idempotent on (channel, provider id): a provider's retry of the same delivery stores
nothing new and starts no second turn. The turn is enqueued only once the row is committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Tenant, User
from channels_app.events import EventKind, event_record
from channels_app.live import message_published
from channels_app.models import Conversation, Message, TurnState
from channels_app.search_index import messages_index
from channels_app.triage import conversation_triage, message_assessment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundMedia:
    url: str
    content_type: str


@dataclass(frozen=True)
class InboundMessage:
    tenant: Tenant
    user: User
    channel: str
    provider_id: str | None
    text: str
    media: tuple[InboundMedia, ...] = ()
    received_at: datetime = field(default_factory=timezone.now)
    # A channel where the person picks the conversation (web chat) names it; the others get the
    # user's open conversation on the channel (conversation_for).
    conversation: Conversation | None = None


@dataclass(frozen=True)
class ReceiveResult:
    message: Message
    created: bool


def conversation_for(*, user: User, channel: str, at: datetime) -> Conversation:
    """The user's open conversation on this channel, or a new one after a long silence."""
    idle = timedelta(hours=settings.CONVERSATION_IDLE_HOURS)
    conversation = (
        Conversation.objects.filter(
            user=user, channel=channel, is_deleted=False, last_activity_at__gte=at - idle
        )
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-last_activity_at")
        .first()
    )
    if conversation is None:
        if user.tenant is None:
            raise ValueError("Only the people of a tenant have conversations.")
        conversation = Conversation.objects.create(
            tenant=user.tenant, user=user, channel=channel, started_at=at, last_activity_at=at
        )
    return conversation


def message_receive(inbound: InboundMessage, *, start_turn: bool = True) -> ReceiveResult:
    """Store what a person sent, once (a provider's retry of a stored delivery is answered with
    the stored message), with its sentiment and priority, its search tokens, the conversation's
    counters and triage, and its event, in one transaction of few round trips: a webhook waits
    for this."""
    try:
        with transaction.atomic():
            conversation = inbound.conversation or conversation_for(
                user=inbound.user, channel=inbound.channel, at=inbound.received_at
            )
            # While a human has the conversation, the bot is quiet: no turn runs.
            start_turn = start_turn and conversation.status != Conversation.Status.HUMAN
            metadata: dict[str, object] = {}
            if inbound.media:
                metadata["media"] = [m.__dict__ for m in inbound.media]
            metadata.update(message_assessment(inbound.text))
            # A person's message is recorded by its row and its MESSAGE_RECEIVED event; the
            # audit log is for what staff and settings change.
            with disable_auditlog():
                message = Message.objects.create(
                    conversation=conversation,
                    channel=inbound.channel,
                    direction=Message.Direction.INBOUND,
                    sender_kind=Message.SenderKind.USER,
                    body=inbound.text,
                    provider_id=inbound.provider_id,
                    delivery_status=Message.DeliveryStatus.RECEIVED,
                    metadata=metadata,
                    created_at=inbound.received_at,
                    turn_state=TurnState.PENDING if start_turn else TurnState.SKIPPED,
                )
            messages_index([message], new=True)
            conversation.message_added(
                at=inbound.received_at,
                **conversation_triage(message=message, conversation=conversation),
            )
            message_published(message, tenant_id=conversation.tenant_id)
            event_record(
                tenant=inbound.tenant,
                kind=EventKind.MESSAGE_RECEIVED,
                conversation=conversation,
                message=message,
                data={"length": len(inbound.text), "media": len(inbound.media)},
            )
            if start_turn:
                transaction.on_commit(lambda: turn_enqueue(message_id=message.pk))
    except IntegrityError:
        if not inbound.provider_id:
            raise
        # The same delivery, stored by a concurrent request (or before: the retry of a stored
        # one lands here too, without a read first on the path every new message takes).
        existing = Message.objects.get(channel=inbound.channel, provider_id=inbound.provider_id)
        return ReceiveResult(existing, created=False)
    return ReceiveResult(message, created=True)


def turn_enqueue(*, message_id: int) -> None:
    """Hand the stored message to a worker. If the broker is unreachable the message is safe in
    the database and the periodic sweep enqueues it again: the sender still gets their 200."""
    from channels_app.tasks import process_turn_task

    try:
        process_turn_task.delay(message_id)
    except Exception:
        logger.warning(
            "could not enqueue the turn of message %s; the sweep will", message_id, exc_info=True
        )
