"""What the chat does: start, switch and delete conversations, receive a person's message into
the turn engine, mark replies read, bookmarks, and the per-user rate limit.

A message goes through `message_receive` as every channel's does: stored idempotently on its
provider id (`u<user>:<client id>`), its turn enqueued on commit. The socket acknowledges only
after that returns, so an acknowledged message is stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Tenant, User
from agents.models import AgentInstance
from agents.types import WALKER_AGENT_TYPES
from channels_app.chat.protocol import provider_id_for
from channels_app.chat.selectors import conversation_get
from channels_app.inbound import InboundMessage, ReceiveResult, message_receive
from channels_app.models import Bookmark, Channel, Conversation, Message, TurnState

logger = logging.getLogger(__name__)


class ChatError(Exception):
    """A request the chat refuses, with the code and text the person is told."""

    code = "invalid"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ConversationNotFound(ChatError):
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("No such conversation.", field="conversation_id")


class AgentNotAvailable(ChatError):
    code = "agent_unavailable"


class RateLimited(ChatError):
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many messages: try again in {retry_after} s.")
        self.retry_after = retry_after


def _tenant(user: User) -> Tenant:
    # Only people of a tenant reach the chat: the socket refuses others, the API has HasTenant.
    return cast(Tenant, user.tenant)


def _owned(user: User, conversation_id: int) -> Conversation:
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def agent_check(*, user: User, agent_type: str) -> None:
    if agent_type not in WALKER_AGENT_TYPES:
        raise AgentNotAvailable(f"Unknown agent {agent_type!r}.", field="agent_type")
    enabled = (
        AgentInstance.objects.for_tenant(user.tenant)
        .filter(agent__agent_type=agent_type, enabled=True)
        .exists()
    )
    if not enabled:
        raise AgentNotAvailable(
            "This agent isn't part of your workspace's plan.", field="agent_type"
        )


def chat_conversation_create(*, user: User, agent_type: str) -> Conversation:
    agent_check(user=user, agent_type=agent_type)
    now = timezone.now()
    return Conversation.objects.create(
        tenant=_tenant(user),
        user=user,
        channel=Channel.CHAT,
        current_agent_type=agent_type,
        started_at=now,
        last_activity_at=now,
    )


def chat_agent_switch(*, user: User, conversation_id: int, agent_type: str) -> Conversation:
    """The agent the conversation goes on with: the router's prior for the next messages (a
    message plainly about another agent's topic still reaches that agent, as on WhatsApp)."""
    conversation = _owned(user, conversation_id)
    agent_check(user=user, agent_type=agent_type)
    if conversation.current_agent_type != agent_type:
        conversation.current_agent_type = agent_type
        conversation.save(update_fields=["current_agent_type"])
    return conversation


def chat_conversation_delete(*, user: User, conversation_id: int) -> None:
    """Soft delete: hidden from the person, kept for the console and for retention."""
    conversation = _owned(user, conversation_id)
    conversation.is_deleted = True
    conversation.deleted_at = timezone.now()
    conversation.save(update_fields=["is_deleted", "deleted_at"])


@dataclass(frozen=True)
class ChatReceived:
    result: ReceiveResult
    turn_started: bool
    agent_type: str  # the conversation's agent when the message arrived


def chat_message_receive(
    *, user: User, conversation_id: int, text: str, client_id: str, agent_type: str = ""
) -> ChatReceived:
    """Store a person's message and start its turn. `agent_type`, when given, switches the
    conversation's agent first."""
    provider_id = provider_id_for(user_id=user.pk, client_id=client_id)
    # A resend of a stored message is answered from the row, whatever conversation it names.
    existing = (
        Message.objects.filter(channel=Channel.CHAT, provider_id=provider_id)
        .select_related("conversation")
        .first()
    )
    if existing is not None:
        return ChatReceived(
            ReceiveResult(existing, created=False),
            turn_started=False,
            agent_type=existing.conversation.current_agent_type,
        )
    if agent_type:
        conversation = chat_agent_switch(
            user=user, conversation_id=conversation_id, agent_type=agent_type
        )
    else:
        conversation = _owned(user, conversation_id)
    result = message_receive(
        InboundMessage(
            tenant=_tenant(user),
            user=user,
            channel=Channel.CHAT,
            provider_id=provider_id,
            text=text,
            conversation=conversation,
        )
    )
    started = result.created and result.message.turn_state == TurnState.PENDING
    return ChatReceived(result, turn_started=started, agent_type=conversation.current_agent_type)


def chat_mark_read(*, user: User, conversation_id: int, up_to: int) -> int:
    """Replies up to message `up_to` were seen; the number newly marked read."""
    conversation = _owned(user, conversation_id)
    return Message.objects.filter(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        pk__lte=up_to,
        delivery_status__in=(Message.DeliveryStatus.SENT, Message.DeliveryStatus.DELIVERED),
    ).update(delivery_status=Message.DeliveryStatus.READ)


def chat_mark_delivered(*, message_ids: list[int]) -> int:
    """Replies that reached an open page. Only `sent` moves: never back from read."""
    return Message.objects.filter(
        pk__in=message_ids, delivery_status=Message.DeliveryStatus.SENT
    ).update(delivery_status=Message.DeliveryStatus.DELIVERED)


def _visible_message(*, user: User, message_id: int) -> Message:
    message = (
        Message.objects.for_tenant(user.tenant)
        .filter(
            pk=message_id,
            conversation__user=user,
            conversation__channel=Channel.CHAT,
            conversation__is_deleted=False,
        )
        .exclude(delivery_status=Message.DeliveryStatus.HELD)
        .first()
    )
    if message is None:
        raise ChatError("No such message.", field="message_id")
    return message


def bookmark_add(*, user: User, message_id: int) -> Bookmark:
    message = _visible_message(user=user, message_id=message_id)
    try:
        with transaction.atomic():
            return Bookmark.objects.create(user=user, message=message)
    except IntegrityError:
        return Bookmark.objects.get(user=user, message=message)


def bookmark_remove(*, user: User, message_id: int) -> None:
    message = _visible_message(user=user, message_id=message_id)
    Bookmark.objects.filter(user=user, message=message).delete()


def rate_check(*, user_id: int) -> None:
    """Count one message for the user in the current minute; refuse past the limit.

    A fixed one-minute window in the cache, shared by every tab and server. Without the cache
    the message is let through: losing a person's message is worse than a burst.
    """
    limit = settings.CHAT_MESSAGES_PER_MINUTE
    if limit <= 0:
        return
    now = time.time()
    window = int(now // 60)
    key = f"chat:rate:{user_id}:{window}"
    try:
        count = 1 if cache.add(key, 1, timeout=120) else int(cache.incr(key))
    except Exception:
        logger.warning("chat rate limit: cache unavailable, message let through")
        return
    if count > limit:
        raise RateLimited(retry_after=max(1, int((window + 1) * 60 - now)))
