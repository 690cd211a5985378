"""Human takeover: a member of staff takes a conversation from the bot, answers as themselves on
the person's channel, and hands it back.

While a human has it the bot is quiet on that conversation, whatever the channel: a message that
arrives is stored and shown, and no turn runs for it (no agent reply, no approval drafted). The
person is told when someone joins and when the bot is back. A conversation left alone for
TAKEOVER_IDLE_MINUTES goes back to the bot by itself (`takeovers_release_idle`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from agents.types import AgentType
from channels_app.events import EventKind, event_record
from channels_app.live import conversation_published
from channels_app.models import Conversation, Message
from channels_app.outbound import message_send

# A WhatsApp message holds 1,600 characters; a human's reply on any channel stays within it.
HUMAN_REPLY_MAX = 1600


class TakeoverRefused(Exception):
    """The step does not fit the conversation's state; the message says why."""


def operator_name(user: User | None) -> str:
    if user is None:
        return "Someone"
    return user.first_name or user.username


def _agent_name(conversation: Conversation) -> str:
    agent = conversation.current_agent_type
    return str(AgentType(agent).label) if agent in AgentType.values else "the assistant"


def _locked(conversation: Conversation) -> Conversation:
    # Only the conversation's row is locked: its operator may be none (an outer join).
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("human_operator", "tenant")
        .get(pk=conversation.pk)
    )


def conversation_takeover(*, conversation: Conversation, operator: User) -> Message:
    """The operator takes the conversation; the person is told who joined."""
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.is_deleted:
            raise TakeoverRefused("This conversation was deleted.")
        if locked.status == Conversation.Status.HUMAN:
            raise TakeoverRefused(
                f"{operator_name(locked.human_operator)} already has this conversation."
            )
        now = timezone.now()
        locked.status = Conversation.Status.HUMAN
        locked.human_operator, locked.human_since = operator, now
        locked.escalated_at = locked.escalated_at or now
        locked.save(update_fields=["status", "human_operator", "human_since", "escalated_at"])
        event_record(
            tenant=locked.tenant,
            kind=EventKind.HUMAN_TAKEOVER,
            conversation=locked,
            data={"operator_id": operator.pk},
        )
    conversation.refresh_from_db()
    conversation_published(conversation)
    return message_send(
        conversation=conversation,
        sender_kind=Message.SenderKind.SYSTEM,
        body=f"{operator_name(operator)} from the team has joined the conversation.",
        metadata={"takeover": "joined", "operator_id": operator.pk},
    )


def conversation_human_reply(*, conversation: Conversation, operator: User, text: str) -> Message:
    """A message from the operator, as themselves, on the person's channel."""
    text = text.strip()
    if not text:
        raise TakeoverRefused("Write a message first.")
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status != Conversation.Status.HUMAN:
            raise TakeoverRefused("Take the conversation over before replying as yourself.")
        event_record(
            tenant=locked.tenant,
            kind=EventKind.HUMAN_REPLY,
            conversation=locked,
            data={"operator_id": operator.pk, "length": len(text)},
        )
    return message_send(
        conversation=conversation,
        sender_kind=Message.SenderKind.HUMAN,
        body=text,
        metadata={"operator_id": operator.pk, "operator_name": operator_name(operator)},
    )


def conversation_handback(*, conversation: Conversation, operator: User | None) -> Message:
    """The bot answers again; the person is told. `operator` None: handed back for being idle."""
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status != Conversation.Status.HUMAN:
            raise TakeoverRefused("Nobody has taken this conversation over.")
        held_by = locked.human_operator
        locked.status = Conversation.Status.ACTIVE
        locked.human_operator, locked.human_since = None, None
        locked.save(update_fields=["status", "human_operator", "human_since"])
        event_record(
            tenant=locked.tenant,
            kind=EventKind.HUMAN_HANDBACK,
            conversation=locked,
            data={
                "operator_id": operator.pk if operator else None,
                "held_by": held_by.pk if held_by else None,
                "idle": operator is None,
            },
        )
    conversation.refresh_from_db()
    conversation_published(conversation)
    return message_send(
        conversation=conversation,
        sender_kind=Message.SenderKind.SYSTEM,
        body=f"You're back with {_agent_name(conversation)}. Ask me anything.",
        metadata={"takeover": "handed_back"},
    )


def takeovers_release_idle(*, now: datetime | None = None) -> int:
    """Hand back the conversations nobody has written in for TAKEOVER_IDLE_MINUTES (0: never)."""
    minutes = settings.TAKEOVER_IDLE_MINUTES
    if minutes <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(minutes=minutes)
    released = 0
    for conversation in Conversation.objects.filter(
        status=Conversation.Status.HUMAN, last_activity_at__lt=cutoff
    ).select_related("tenant"):
        try:
            conversation_handback(conversation=conversation, operator=None)
        except TakeoverRefused:
            continue  # handed back by someone a moment ago
        released += 1
    return released
