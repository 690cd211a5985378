"""The console's conversation list: filters, search in what was written, and the rows as a
viewer may see them. One query for the page, one for its last messages, whatever its size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.models import User
from channels_app.models import Conversation, Message
from channels_app.search_index import conversations_matching
from channels_app.selectors import text_shown
from channels_app.triage import RANK
from hitl.models import OPEN_STATUSES, Approval
from privacy.reveal import mask_for

PREVIEW_CHARS = 80


@dataclass(frozen=True)
class ConversationFilters:
    channel: str | None = None
    agent_type: str | None = None
    user_id: int | None = None
    status: str | None = None
    priority: str | None = None
    sentiment: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    min_messages: int | None = None
    max_messages: int | None = None
    action_type: str | None = None  # contains an approval of this action type
    pending_approval: bool | None = None
    q: str | None = None

    def applied(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value not in (None, "")}


def conversations_filtered(
    conversations: QuerySet[Conversation], *, tenant_id: int, filters: ConversationFilters
) -> QuerySet[Conversation]:
    found = conversations.filter(tenant_id=tenant_id, is_deleted=False)
    exact = {
        "channel": filters.channel,
        "current_agent_type": filters.agent_type,
        "user_id": filters.user_id,
        "status": filters.status,
        "priority": filters.priority,
        "sentiment": filters.sentiment,
    }
    found = found.filter(**{name: value for name, value in exact.items() if value})
    # A conversation is in the range when it was active in it.
    if filters.date_from:
        found = found.filter(last_activity_at__gte=filters.date_from)
    if filters.date_to:
        found = found.filter(started_at__lt=filters.date_to)
    if filters.min_messages is not None:
        found = found.filter(message_count__gte=filters.min_messages)
    if filters.max_messages is not None:
        found = found.filter(message_count__lte=filters.max_messages)
    if filters.action_type:
        found = found.filter(
            Exists(
                Approval.objects.filter(
                    conversation=OuterRef("pk"), action_type=filters.action_type
                )
            )
        )
    if filters.pending_approval is not None:
        pending = Exists(
            Approval.objects.filter(conversation=OuterRef("pk"), status__in=OPEN_STATUSES)
        )
        found = found.filter(pending if filters.pending_approval else ~pending)
    if filters.q and filters.q.strip():
        written = conversations_matching(tenant_id=tenant_id, text=filters.q)
        # Or who: resolved first, so that a query that names nobody (most) plans without an OR.
        named = list(
            User.objects.filter(
                tenant_id=tenant_id, username__iexact=filters.q.strip()
            ).values_list("pk", flat=True)
        )
        found = found.filter(written | Q(user_id__in=named) if named else written)
    return found


def priority_queue(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """The conversations that need a person, most pressing first: urgent, then high, then the
    longest waiting."""
    rank = Case(
        *(When(priority=priority, then=Value(value)) for priority, value in RANK.items()),
        default=Value(1),
    )
    return (
        conversations.exclude(status=Conversation.Status.CLOSED)
        .filter(priority__in=(Conversation.Priority.HIGH, Conversation.Priority.URGENT))
        .annotate(priority_rank=rank)
        .order_by("-priority_rank", "priority_since", "last_activity_at", "id")
    )


def with_list_columns(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        conversations.select_related("user", "human_operator")
        .prefetch_related("user__phone_numbers")
        .annotate(
            last_message_id=Subquery(last.values("id")[:1]),
            has_pending_approval=Exists(
                Approval.objects.filter(conversation=OuterRef("pk"), status__in=OPEN_STATUSES)
            ),
        )
    )


def conversation_rows(conversations: list[Conversation], *, viewer: User) -> list[dict[str, Any]]:
    last_ids = [c.last_message_id for c in conversations if c.last_message_id]  # type: ignore[attr-defined]
    last = {
        m.pk: m
        for m in Message.objects.filter(pk__in=last_ids).only(
            "id", "body", "sender_kind", "created_at", "conversation_id"
        )
    }
    phones = {
        c.user_id: mask_for(viewer, "phone", c.user.phone_numbers.all()[0].phone_number)
        for c in conversations
        if c.user.phone_numbers.all()
    }
    rows = []
    for conversation in conversations:
        message = last.get(conversation.last_message_id)  # type: ignore[attr-defined]
        preview = ""
        if message is not None:
            text = text_shown(message.body, viewer=viewer, conversation=conversation)
            preview = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
        rows.append(
            {
                "id": conversation.pk,
                "user": {
                    "id": conversation.user_id,
                    "username": conversation.user.username,
                    "phone": phones.get(conversation.user_id, ""),
                },
                "channel": conversation.channel,
                "agent_type": conversation.current_agent_type,
                "message_count": conversation.message_count,
                "status": conversation.status,
                "priority": conversation.priority,
                "sentiment": conversation.sentiment,
                "started_at": conversation.started_at,
                "last_activity_at": conversation.last_activity_at,
                "last_message": {
                    "preview": preview,
                    "sender_kind": message.sender_kind if message else None,
                    "at": message.created_at if message else None,
                },
                "has_pending_approval": conversation.has_pending_approval,  # type: ignore[attr-defined]
                "priority_since": conversation.priority_since,
                "human_operator": (
                    conversation.human_operator.username if conversation.human_operator else None
                ),
            }
        )
    return rows
