"""A conversation as the console shows it: a header and a thread, each message with its
delivery status, confidence and the approvals it raised, and the events timeline. Text is masked
for the viewer (privacy.reveal); a bounded number of queries whatever the conversation's length."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.urls import reverse

from accounts.models import User
from agents.types import AgentType
from channels_app.events import Event
from channels_app.models import Conversation, Message
from channels_app.selectors import message_page, message_text
from hitl.models import Approval
from monitoring.analytics.costs import conversation_cost
from privacy.masking import mask_text
from privacy.reveal import mask_for

THREAD_MESSAGES = 200
TIMELINE_EVENTS = 50


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    side: str  # "person" | "agent" | "human" | "system"
    author: str
    text: str
    created_at: Any
    delivery_status: str
    confidence: float | None
    approvals: list[dict[str, Any]]


def duration_text(span: timedelta) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 days 4 h`."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def _author(message: Message) -> tuple[str, str]:
    kind = message.sender_kind
    if kind == Message.SenderKind.USER:
        return "person", "Person"
    if kind == Message.SenderKind.HUMAN:
        return "human", f"{(message.metadata or {}).get('operator_name') or 'Someone'} (team)"
    if kind == Message.SenderKind.AGENT:
        known = message.agent_type in AgentType.values
        return "agent", str(AgentType(message.agent_type).label) if known else "Agent"
    return "system", "System"


def conversation_thread(conversation: Conversation, *, viewer: User) -> dict[str, Any]:
    page = message_page(conversation, viewer=viewer, limit=THREAD_MESSAGES)
    ids = [m.pk for m in page.messages]
    raised: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for approval in Approval.objects.filter(message_id__in=ids).order_by("created_at"):
        raised[approval.message_id].append(
            {
                "id": approval.pk,
                "title": mask_text(approval.title) or approval.action_type,
                "status": approval.get_status_display(),
                "url": reverse("admin:hitl_approval_change", args=[approval.pk]),
            }
        )
    thread = []
    for message in page.messages:
        message.conversation = conversation
        side, author = _author(message)
        thread.append(
            ThreadMessage(
                id=message.pk,
                side=side,
                author=author,
                text=message_text(message, viewer=viewer),
                created_at=message.created_at,
                delivery_status=message.get_delivery_status_display(),
                confidence=message.confidence,
                approvals=raised.get(message.pk, []),
            )
        )
    user = conversation.user
    phones = [mask_for(viewer, "phone", p.phone_number) for p in user.phone_numbers.all()]
    return {
        "header": {
            "user": user.username,
            "user_contact": ", ".join(phones),
            "channel": conversation.get_channel_display(),
            "agent": conversation.get_current_agent_type_display() or "None yet",
            "started_at": conversation.started_at,
            "duration": duration_text(conversation.last_activity_at - conversation.started_at),
            "message_count": conversation.message_count,
            "status": conversation.get_status_display(),
            "priority": conversation.get_priority_display(),
            "sentiment": conversation.get_sentiment_display() or "Not measured",
            "csat": conversation.csat_score,
            "cost": conversation_cost(conversation),
            "human_operator": conversation.human_operator,
        },
        "thread": thread,
        "thread_has_earlier": page.has_more,
        "timeline": list(
            Event.objects.filter(conversation=conversation).order_by("-created_at", "-id")[
                :TIMELINE_EVENTS
            ]
        ),
    }
