"""Outbound: the one path every message the system sends in a conversation takes (DESIGN.md,
"Deliver"). Agent replies, holding messages, keyword and quota replies, approval notices, held
replies sent after approval, the console's manual sends and a human operator's replies are all
stored and counted by `message_store`, then claimed and delivered by `message_deliver` through
the channel's transport, which owns the retry rules (TransportError says whether a retry can
help). `message_send` does both for a message that is not part of a turn.

Claiming: a message is sent by whoever claims it with a conditional update, so two callers never
send it twice. The sender renews its claim while it sends (channels_app/claims.py: Twilio's
retries may outlast the lease); a claim not renewed for TURN_LEASE_SECONDS belongs to a worker
that died. A turn that runs again after a crash passes `stale_before` (its own claim's time) to
take over the sends that the dead run claimed but never finished, since the turns of one
conversation never overlap.

Email briefs are not conversation messages: they are EmailSend rows with their own claim, sent
by `channels_app.email.sending` through anymail's failover.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Q
from django.utils import timezone

from channels_app.claims import claim_kept
from channels_app.events import EventKind, event_record
from channels_app.live import message_published, status_published
from channels_app.models import Conversation, Message
from channels_app.search_index import messages_index
from channels_app.transports import SendResult, TransportError, transport_for

logger = logging.getLogger(__name__)

Send = Callable[[Message], SendResult]


def message_store(
    *,
    conversation: Conversation,
    sender_kind: str,
    body: str,
    reply_to: Message | None = None,
    delivery_status: str = Message.DeliveryStatus.QUEUED,
    **fields: Any,
) -> Message:
    """Store an outbound message and count it on its conversation, in the caller's
    transaction. `delivery_status` HELD keeps it until an approver lets it go."""
    created = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUTBOUND,
        sender_kind=sender_kind,
        body=body,
        reply_to=reply_to,
        delivery_status=delivery_status,
        **fields,
    )
    conversation.message_added(at=created.created_at)
    messages_index([created], new=True)
    message_published(created, tenant_id=conversation.tenant_id)
    return created


def message_claim(*, message: Message, stale_before: datetime | None = None) -> bool:
    """Take the right to send a queued message; False when it is sent or another caller is
    sending it."""
    now = timezone.now()
    stale = stale_before or now - timedelta(seconds=settings.TURN_LEASE_SECONDS)
    claimed = bool(
        Message.objects.filter(
            pk=message.pk,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.DeliveryStatus.QUEUED,
            provider_id__isnull=True,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    if claimed:
        message.claimed_at = now
    return claimed


def message_deliver(
    *, message: Message, send: Send | None = None, stale_before: datetime | None = None
) -> bool:
    """Claim and send one queued message, and record how it went; False when another caller
    has it. A final failure is recorded on the message, not raised: the sender's work is over
    either way. `send` defaults to the channel's transport; a channel passes its own for a
    reply that must skip the transport's per-person checks (WhatsApp's STOP confirmation)."""
    if not message_claim(message=message, stale_before=stale_before):
        logger.info("outbound: message %s is sent or being sent elsewhere", message.pk)
        return False
    conversation = message.conversation
    started = time.perf_counter()
    try:
        with claim_kept(message):
            result = (send or transport_for(message.channel).send)(message)
    except TransportError as exc:
        Message.objects.filter(pk=message.pk).update(
            delivery_status=Message.DeliveryStatus.FAILED,
            error_code=exc.code[:32],
            error_message=str(exc)[:300],
        )
        status_published(
            message, tenant_id=conversation.tenant_id, status=Message.DeliveryStatus.FAILED
        )
        event_record(
            tenant=conversation.tenant,
            kind=EventKind.DELIVERY_UPDATED,
            conversation=conversation,
            message=message,
            duration_ms=int((time.perf_counter() - started) * 1000),
            data={"status": Message.DeliveryStatus.FAILED, "error_code": exc.code},
        )
        return True
    except BaseException:
        # Not a send failure the transport knows: give the claim back so a retry sends it.
        Message.objects.filter(pk=message.pk).update(claimed_at=None)
        raise
    _sent_record(message=message, result=result)
    status_published(message, tenant_id=conversation.tenant_id, status=result.status)
    if message.sender_kind == Message.SenderKind.AGENT:
        if conversation.status == Conversation.Status.WAITING:
            Conversation.objects.filter(pk=conversation.pk).update(
                status=Conversation.Status.ACTIVE
            )
        event_record(
            tenant=conversation.tenant,
            kind=EventKind.REPLY_SENT,
            conversation=conversation,
            message=message,
            agent_type=message.agent_type,
            duration_ms=message.response_time_ms,
            data={"confidence": message.confidence, "status": result.status},
        )
    return True


def _sent_record(*, message: Message, result: SendResult) -> None:
    """Record what the provider took. The message has gone out: if this write were lost, a
    re-run of the turn would send it again. So a database that is restarting or failing over
    is waited for, as long as the claim's lease lasts (no other sender may take the message over
    before then); outside a transaction only, where a new connection can be opened."""
    deadline = time.monotonic() + settings.TURN_LEASE_SECONDS
    pause = 0.25
    while True:
        try:
            Message.objects.filter(pk=message.pk).update(
                provider_id=result.provider_id or None, delivery_status=result.status
            )
            return
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            logger.warning(
                "outbound: message %s went out as %s; waiting for the database to record it",
                message.pk,
                result.provider_id,
            )
            time.sleep(pause)
            pause = min(2 * pause, 2.0)
            close_old_connections()  # the broken one; the next query opens a new one


def message_send(
    *,
    conversation: Conversation,
    sender_kind: str,
    body: str,
    send: Send | None = None,
    **fields: Any,
) -> Message:
    """Store a message outside any turn and deliver it now; the returned message carries the
    outcome (sent, or failed with its reason)."""
    with transaction.atomic():
        message = message_store(
            conversation=conversation, sender_kind=sender_kind, body=body, **fields
        )
    message_deliver(message=message, send=send)
    message.refresh_from_db()
    return message
