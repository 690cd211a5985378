"""Satisfaction, measured: WhatsApp and chat ask the person for a 1-5 rating once per
conversation, when they sign off ("thanks", "bye") or when the conversation goes idle, and record
the answer. A rating is the conversation's business, never a question for the agent.

- Asked once: `Conversation.csat_asked_at` is set when the question goes out, and never again.
- Answered: a short reply that is a rating ("4", "5/5", "3 stars", "⭐⭐⭐⭐") within
  CSAT_ANSWER_HOURS of the question is recorded (`csat_score`, `csat_rated_at`) and thanked; any
  other message is answered by the agent as usual, and a later rating is no longer awaited once
  the person has moved on to another question.
- Idle: the last word was the agent's, delivered, CSAT_IDLE_MINUTES ago, inside WhatsApp's
  24-hour window (a question outside it would need a paid template).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_app.events import EventKind, event_record
from channels_app.models import Channel, Conversation, Message
from channels_app.outbound import message_send, message_store

QUESTION = (
    "Before you go: how would you rate this conversation, from 1 (poor) to 5 (excellent)? "
    "Just reply with a number."
)
THANKS = "Thank you for rating us {score}/5. It helps the team make me better."
ASKING_CHANNELS = (Channel.WHATSAPP, Channel.CHAT)
WENT_OUT = (
    Message.DeliveryStatus.SENT,
    Message.DeliveryStatus.DELIVERED,
    Message.DeliveryStatus.READ,
)
ANSWER_MAX_LENGTH = 24
SIGN_OFF_MAX_LENGTH = 60

_RATING = re.compile(
    r"^\s*(?:rating\s*[:=]?\s*)?([1-5])(?:\s*(?:/\s*5|out of 5|stars?|⭐+))?\s*[.!]*\s*$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(?:(?:ok(?:ay)?|great|perfect|cool|awesome|got it|that'?s all|that is all|all good)"
    r"[\s,.!]*)*(?:thanks|thank you|thx|ty|cheers|bye|goodbye|see you|that'?s all|that is all|"
    r"have a (?:good|nice|great) (?:day|one|evening))\b[\s\w,.!']*$",
    re.IGNORECASE,
)


def rating_in(text: str) -> int | None:
    """The 1-5 rating a short reply gives, or None when it is something else."""
    text = (text or "").strip()
    if not text or len(text) > ANSWER_MAX_LENGTH:
        return None
    if set(text) <= {"⭐", " "}:
        stars = text.count("⭐")
        return stars if 1 <= stars <= 5 else None
    match = _RATING.match(text)
    return int(match.group(1)) if match else None


def signs_off(text: str) -> bool:
    """Whether a short message closes the conversation ("thanks!", "ok bye", "that's all")."""
    text = (text or "").strip()
    return 0 < len(text) <= SIGN_OFF_MAX_LENGTH and bool(_SIGN_OFF.match(text))


def awaiting_rating(conversation: Conversation, *, at: datetime) -> bool:
    return (
        conversation.csat_asked_at is not None
        and conversation.csat_score is None
        and at - conversation.csat_asked_at <= timedelta(hours=settings.CSAT_ANSWER_HOURS)
    )


def csat_record(*, message: Message, conversation: Conversation) -> bool:
    """Record the message as the conversation's rating when it is one; thank the person (the
    turn delivers the thanks). False when the message is not a rating."""
    if not awaiting_rating(conversation, at=message.created_at):
        return False
    score = rating_in(message.body)
    if score is None:
        return False
    with transaction.atomic():
        updated = Conversation.objects.filter(pk=conversation.pk, csat_score__isnull=True).update(
            csat_score=score, csat_rated_at=message.created_at
        )
        if not updated:
            return False
        conversation.csat_score, conversation.csat_rated_at = score, message.created_at
        message_store(
            conversation=conversation,
            reply_to=message,
            sender_kind=Message.SenderKind.SYSTEM,
            body=THANKS.format(score=score),
            metadata={"csat": "thanks"},
        )
        event_record(
            tenant=conversation.tenant,
            kind=EventKind.CSAT_RECORDED,
            conversation=conversation,
            message=message,
            data={"score": score},
        )
    return True


def _asked(conversation: Conversation, *, message: Message | None, why: str) -> None:
    event_record(
        tenant=conversation.tenant,
        kind=EventKind.CSAT_ASKED,
        conversation=conversation,
        message=message,
        data={"why": why},
    )


def _claim_question(conversation: Conversation) -> bool:
    """Mark the question asked, once: only the caller that flips it asks."""
    now = timezone.now()
    claimed = Conversation.objects.filter(pk=conversation.pk, csat_asked_at__isnull=True).update(
        csat_asked_at=now
    )
    if claimed:
        conversation.csat_asked_at = now
    return bool(claimed)


def csat_ask_after(*, message: Message, conversation: Conversation) -> bool:
    """After a sign-off was answered, ask for the rating (delivered by the turn with its reply)."""
    if conversation.channel not in ASKING_CHANNELS or not signs_off(message.body):
        return False
    if conversation.status == Conversation.Status.HUMAN:
        return False
    with transaction.atomic():
        if not _claim_question(conversation):
            return False
        message_store(
            conversation=conversation,
            reply_to=message,
            sender_kind=Message.SenderKind.SYSTEM,
            body=QUESTION,
            metadata={"csat": "question"},
        )
        _asked(conversation, message=message, why="sign_off")
    return True


def went_out(message: Message) -> bool:
    """Handed to the provider (Twilio answers "queued" with its id) or further along."""
    return message.delivery_status in WENT_OUT or (
        message.delivery_status == Message.DeliveryStatus.QUEUED and bool(message.provider_id)
    )


def csat_ask_idle(*, now: datetime | None = None, limit: int = 500) -> int:
    """Ask the conversations gone idle after the agent's last word; the number asked."""
    now = now or timezone.now()
    idle_since = now - timedelta(minutes=settings.CSAT_IDLE_MINUTES)
    window = now - timedelta(hours=24)
    candidates = Conversation.objects.filter(
        channel__in=ASKING_CHANNELS,
        status=Conversation.Status.ACTIVE,
        csat_asked_at__isnull=True,
        is_deleted=False,
        last_activity_at__lt=idle_since,
        last_activity_at__gt=window,
    ).select_related("tenant")[:limit]
    asked = 0
    for conversation in candidates:
        last = conversation.messages.order_by("-created_at", "-id").first()
        if last is None or last.sender_kind != Message.SenderKind.AGENT or not went_out(last):
            continue
        if not _claim_question(conversation):
            continue
        message_send(
            conversation=conversation,
            sender_kind=Message.SenderKind.SYSTEM,
            body=QUESTION,
            metadata={"csat": "question"},
        )
        _asked(conversation, message=None, why="idle")
        asked += 1
    return asked
