"""Priority routing (seed 004): every inbound message gets a sentiment, the conversation a
rolling one, and a priority computed from what was written. Nobody sets priority by hand.

- Sentiment: VADER's compound score (vaderSentiment), -1 to 1, kept on the message; the
  conversation's is the mean of its last ROLLING person's messages: negative under -0.05,
  positive over 0.05, neutral between.
- A message's priority:
  - urgent: an urgent word ("urgent", "asap", "emergency"), something broken said angrily, or
    a strongly negative message (compound -0.6 or less);
  - high: money being lost ("wasting", "overcharged", "refund"), something broken or down, a
    human asked for, a budget or deletion request, or a negative message (-0.3 or less);
  - normal otherwise.
- The conversation's priority is the highest of its last ROLLING person's messages, so it
  settles once the person calms down. When it becomes high or urgent, `priority_since` is set;
  if no human has replied PRIORITY_REPLY_MINUTES later, the team is told once
  (`priority_alerts_send`).

Every pattern is a bounded alternation of literal words over at most TEXT_LIMIT characters.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

# vaderSentiment ships no type hints.
from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from accounts.models import User
from accounts.roles import SUPER_ADMIN, SUPPORT_ADMIN
from agents.router import needs_human
from channels_app.events import EventKind, event_record
from channels_app.models import Conversation, Message
from hitl.models import Notification

ROLLING = 5
TEXT_LIMIT = 2000
URGENT_SCORE, HIGH_SCORE = -0.6, -0.3
RANK: dict[str, int] = {
    Conversation.Priority.LOW: 0,
    Conversation.Priority.NORMAL: 1,
    Conversation.Priority.HIGH: 2,
    Conversation.Priority.URGENT: 3,
}
BY_RANK: dict[int, str] = {rank: priority for priority, rank in RANK.items()}

_URGENT = re.compile(r"\b(?:urgent|urgently|asap|emergency|immediately|right now)\b")
_BROKEN = re.compile(
    r"\b(?:down|broken|not working|doesn'?t work|isn'?t working|outage|crash(?:ed|ing)?|"
    r"error|errors|failing|failed)\b"
)
_MONEY_LOST = re.compile(
    r"\b(?:losing money|lost money|wasting|wasted|overspen(?:t|ding)|overcharg(?:ed|ing)|"
    r"charged twice|double charged|refund|burning (?:money|cash|budget|through))\b"
)
_BUDGET_OR_DELETE = re.compile(
    r"\b(?:budget|delete|deletion|remove my (?:data|account)|close my account|"
    r"cancel (?:my )?(?:account|subscription))\b"
)


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment_score(text: str) -> float:
    return float(_analyzer().polarity_scores(text[:TEXT_LIMIT])["compound"])


def sentiment_label(score: float | None) -> str:
    if score is None:
        return ""
    if score <= -0.05:
        return Conversation.Sentiment.NEGATIVE
    if score >= 0.05:
        return Conversation.Sentiment.POSITIVE
    return Conversation.Sentiment.NEUTRAL


def message_priority(text: str, score: float) -> tuple[str, list[str]]:
    """The message's priority and why."""
    lowered = text[:TEXT_LIMIT].casefold()
    why = []
    if _URGENT.search(lowered):
        why.append("urgent")
    broken = bool(_BROKEN.search(lowered))
    if broken and score < 0:
        why.append("broken, angry")
    if score <= URGENT_SCORE:
        why.append("very negative")
    if why:
        return Conversation.Priority.URGENT, why
    if _MONEY_LOST.search(lowered):
        why.append("money lost")
    if broken:
        why.append("something broken")
    if needs_human(text[:TEXT_LIMIT]):
        why.append("human requested")
    if _BUDGET_OR_DELETE.search(lowered):
        why.append("budget or deletion")
    if score <= HIGH_SCORE:
        why.append("negative")
    return (Conversation.Priority.HIGH if why else Conversation.Priority.NORMAL), why


def message_assessment(text: str) -> dict[str, object]:
    """A person's message's sentiment and priority, for its metadata (set before it is saved)."""
    score = sentiment_score(text)
    priority, why = message_priority(text, score)
    return {
        "sentiment": round(score, 4),
        "priority": priority,
        **({"priority_why": why} if why else {}),
    }


def conversation_triage(*, message: Message, conversation: Conversation) -> dict[str, object]:
    """The conversation's rolling sentiment and priority once this (saved, assessed) message
    counts: the fields to write, set on `conversation` too; the caller writes them with its own
    update, in its transaction."""
    recent = list(
        Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("metadata", flat=True)[:ROLLING]
    )
    scores = [m["sentiment"] for m in recent if "sentiment" in m]
    rolling = sum(scores) / len(scores) if scores else None
    rank = max((RANK.get(m.get("priority"), 1) for m in recent), default=1)
    new_priority = BY_RANK[rank]
    changes: dict[str, object] = {
        "sentiment_score": rolling,
        "sentiment": sentiment_label(rolling),
        "priority": new_priority,
    }
    raised = rank >= RANK[Conversation.Priority.HIGH]
    was_raised = RANK.get(conversation.priority, 1) >= RANK[Conversation.Priority.HIGH]
    if raised and not was_raised:
        changes.update(priority_since=message.created_at, priority_alerted_at=None)
    elif not raised:
        changes.update(priority_since=None, priority_alerted_at=None)
    for name, value in changes.items():
        setattr(conversation, name, value)
    return changes


def priority_alerts_send(*, now: datetime | None = None) -> int:
    """Tell the team about high-priority conversations no human has answered in
    PRIORITY_REPLY_MINUTES; once each. The number told."""
    now = now or timezone.now()
    due = now - timedelta(minutes=settings.PRIORITY_REPLY_MINUTES)
    waiting = (
        Conversation.objects.filter(
            priority__in=(Conversation.Priority.HIGH, Conversation.Priority.URGENT),
            priority_since__lt=due,
            priority_alerted_at__isnull=True,
            is_deleted=False,
        )
        .exclude(status=Conversation.Status.CLOSED)
        .select_related("tenant")
    )
    told = 0
    for conversation in waiting:
        answered = Message.objects.filter(
            conversation=conversation,
            sender_kind=Message.SenderKind.HUMAN,
            created_at__gte=conversation.priority_since,
        ).exists()
        claimed = Conversation.objects.filter(
            pk=conversation.pk, priority_alerted_at__isnull=True
        ).update(priority_alerted_at=now)
        if answered or not claimed:
            continue
        minutes = int((now - conversation.priority_since).total_seconds() // 60)
        title = (
            f"{conversation.get_priority_display()} priority: {conversation} has waited "
            f"{minutes} min for a person"
        )
        team = User.objects.filter(
            tenant=conversation.tenant,
            is_active=True,
            is_deleted=False,
            groups__name__in=(SUPER_ADMIN, SUPPORT_ADMIN),
        ).distinct()
        Notification.objects.bulk_create(
            Notification(tenant=conversation.tenant, recipient=user, title=title[:200])
            for user in team
        )
        event_record(
            tenant=conversation.tenant,
            kind=EventKind.PRIORITY_ALERT,
            conversation=conversation,
            data={"priority": conversation.priority, "minutes": minutes},
        )
        told += 1
    return told
