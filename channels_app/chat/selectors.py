"""Reads of one person's chat: their conversations, a page of history, what came after a message,
the action cards of held replies, search, and transcripts.

Everything here is scoped to the owner: `owned_conversations(user)` is the only way in, and it
goes through the tenant scope first. Held replies are never shown to the person (a human has not
approved them yet); their approvals are shown as action cards instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Min, QuerySet

from accounts.models import User
from agents.models import AgentInstance
from agents.types import WALKER_AGENT_TYPES
from channels_app.chat.protocol import agent_name, message_frame
from channels_app.models import Bookmark, Channel, Conversation, Message, TurnState
from channels_app.selectors import message_page, message_search, messages_visible, search_words
from hitl.models import Approval

HISTORY_PAGE = 50
MAX_HISTORY_PAGE = 200
TITLE_CHARS = 60
SNIPPET_CHARS = 120


def owned_conversations(user: User) -> QuerySet[Conversation]:
    """The user's chat conversations that are not deleted, newest activity first."""
    return (
        Conversation.objects.for_tenant(user.tenant)
        .filter(user=user, channel=Channel.CHAT, is_deleted=False)
        .order_by("-last_activity_at", "-id")
    )


def conversation_get(*, user: User, conversation_id: int) -> Conversation | None:
    return owned_conversations(user).filter(pk=conversation_id).first()


def enabled_agents(user: User) -> list[dict[str, str]]:
    """The Walker agents the user's workspace may talk to, for the agent picker."""
    rows = (
        AgentInstance.objects.for_tenant(user.tenant)
        .filter(enabled=True, agent__agent_type__in=WALKER_AGENT_TYPES)
        .select_related("agent")
        .order_by("agent_id")
    )
    return [
        {"agent_type": row.agent.agent_type, "name": row.agent.name, "purpose": row.agent.purpose}
        for row in rows
    ]


def _titles(conversations: list[Conversation]) -> dict[int, str]:
    """Each conversation's first message from its person, shortened: its title. Bodies are
    encrypted, so they are read (two queries for all) and cut here."""
    first_ids = (
        Message.objects.filter(
            conversation__in=[c.pk for c in conversations],
            direction=Message.Direction.INBOUND,
        )
        .values("conversation_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    rows = Message.objects.filter(pk__in=list(first_ids)).only("conversation_id", "body")
    return {row.conversation_id: _shorten(row.body, TITLE_CHARS) for row in rows}


def _shorten(text: str, limit: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def conversation_summary(conversation: Conversation, title: str = "") -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "title": title or "New chat",
        "agent_type": conversation.current_agent_type,
        "agent_name": agent_name(conversation.current_agent_type),
        "status": conversation.status,
        "message_count": conversation.message_count,
        "started_at": conversation.started_at.isoformat(),
        "last_activity_at": conversation.last_activity_at.isoformat(),
    }


def conversation_list(user: User, *, limit: int = 100) -> list[dict[str, Any]]:
    conversations = list(owned_conversations(user)[:limit])
    titles = _titles(conversations)
    return [conversation_summary(c, titles.get(c.pk, "")) for c in conversations]


def conversation_title(conversation: Conversation) -> str:
    return _titles([conversation]).get(conversation.pk, "")


def _bookmarked_ids(user: User, message_ids: list[int]) -> set[int]:
    return set(
        Bookmark.objects.filter(user=user, message_id__in=message_ids).values_list(
            "message_id", flat=True
        )
    )


def frames_for(user: User, messages: list[Message]) -> list[dict[str, Any]]:
    marked = _bookmarked_ids(user, [m.pk for m in messages])
    return [message_frame(m, bookmarked=m.pk in marked) for m in messages]


@dataclass(frozen=True)
class HistoryPage:
    messages: list[dict[str, Any]]
    has_more: bool


def history_before(
    user: User, conversation: Conversation, *, before: int | None, limit: int = HISTORY_PAGE
) -> HistoryPage:
    """The `limit` messages before message `before` (the latest ones without it), oldest first."""
    page = message_page(conversation, viewer=user, limit=limit, before=before)
    return HistoryPage(frames_for(user, page.messages), page.has_more)


def messages_after(
    user: User, conversation: Conversation, *, after: int, limit: int = MAX_HISTORY_PAGE
) -> HistoryPage:
    """What a reconnecting page missed: the visible messages with an id above `after`. Ids grow
    with time, and a held reply approved later keeps its (older) id, so it is found by its
    status change instead: the page receives it when it is delivered, or on its next load."""
    page = message_page(conversation, viewer=user, limit=limit, after=after)
    return HistoryPage(frames_for(user, page.messages), page.has_more)


def is_processing(conversation: Conversation) -> bool:
    """Whether an agent is working on one of the conversation's messages right now."""
    return Message.objects.filter(
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        turn_state__in=(TurnState.PENDING, TurnState.CLAIMED),
    ).exists()


# Action cards


def card_frame(approval: Approval) -> dict[str, Any]:
    data = approval.action_data or {}
    held = approval.message
    rationale = data.get("rationale")
    return {
        "id": approval.pk,
        "action_type": approval.action_type,
        "title": approval.title,
        "description": str(data.get("description") or "")
        or _description(approval, held)
        or (rationale if isinstance(rationale, str) else ""),
        "figures": _figures(rationale) if isinstance(rationale, dict) else [],
        "estimated_cost": (
            str(approval.estimated_cost) if approval.estimated_cost is not None else None
        ),
        "estimated_reach": approval.estimated_reach,
        "status": approval.status,
        "risk_level": approval.risk_level,
        "hold_reasons": list(approval.hold_reasons or []),
        "conversation_id": approval.conversation_id,
        # The person's message the held reply answers: the card belongs under it.
        "reply_to": held.reply_to_id if held else None,
        "created_at": approval.created_at.isoformat(),
    }


def _description(approval: Approval, held: Message | None) -> str:
    """The agent's own sentence for the action, kept with the held reply's proposals."""
    title = approval.title
    for action in ((held.metadata or {}).get("actions") or []) if held else []:
        if action.get("action_type") == approval.action_type and action.get("title") == title:
            return str(action.get("description") or "")
    return ""


def _figures(rationale: dict[str, Any]) -> list[dict[str, str]]:
    """The figures behind an action, as label and value ("Target ROAS", "3.0")."""
    figures = []
    for key, value in rationale.items():
        if isinstance(value, list | tuple):
            value = " to ".join(str(v) for v in value)
        elif isinstance(value, dict):
            continue
        label = key.replace("_", " ").capitalize().replace("Roas", "ROAS").replace("roas", "ROAS")
        figures.append({"label": label, "value": str(value)})
    return figures


def _approvals(conversation_id: int) -> QuerySet[Approval]:
    return (
        Approval.objects.filter(conversation_id=conversation_id)
        .select_related("message")
        .order_by("created_at", "id")
    )


def conversation_cards(conversation: Conversation) -> list[dict[str, Any]]:
    return [card_frame(a) for a in _approvals(conversation.pk).filter(tenant=conversation.tenant)]


def turn_cards(message: Message) -> list[dict[str, Any]]:
    """The cards of the turn an outbound message belongs to: the approvals of the reply to the
    same person's message (or of this very message, a held reply now delivered)."""
    queryset = _approvals(message.conversation_id)
    if message.reply_to_id:
        queryset = queryset.filter(message__reply_to_id=message.reply_to_id)
    else:
        queryset = queryset.filter(message=message)
    return [card_frame(a) for a in queryset]


# Search


def search(user: User, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Messages of the user's chats containing every word of `query`, newest first, among their
    latest CHAT_SEARCH_MAX_MESSAGES visible messages."""
    words = search_words(query)
    if not words:
        return []
    conversations = {c.pk: c for c in owned_conversations(user)}
    hits = message_search(
        Message.objects.filter(conversation_id__in=list(conversations)).exclude(
            delivery_status=Message.DeliveryStatus.HELD
        ),
        query,
        limit=limit,
        scan=settings.CHAT_SEARCH_MAX_MESSAGES,
    )
    titles = _titles([conversations[c] for c in {h.conversation_id for h in hits}])
    return [
        {
            "conversation_id": hit.conversation_id,
            "conversation_title": titles.get(hit.conversation_id, "") or "New chat",
            "message_id": hit.pk,
            "kind": hit.sender_kind,
            "snippet": _snippet(hit.body, words[0]),
            "created_at": hit.created_at.isoformat(),
        }
        for hit in hits
    ]


def _snippet(text: str, word: str) -> str:
    flat = " ".join((text or "").split())
    at = flat.casefold().find(word)
    start = max(0, at - SNIPPET_CHARS // 3)
    piece = flat[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(flat) else "")


# Bookmarks


def bookmark_list(user: User) -> list[dict[str, Any]]:
    rows = (
        Bookmark.objects.for_tenant(user.tenant)
        .filter(
            user=user,
            message__conversation__user=user,
            message__conversation__channel=Channel.CHAT,
            message__conversation__is_deleted=False,
        )
        .select_related("message")
        .order_by("-created_at", "-id")
    )
    return [
        {
            "message_id": row.message_id,
            "conversation_id": row.message.conversation_id,
            "snippet": _shorten(row.message.body, SNIPPET_CHARS),
            "kind": row.message.sender_kind,
            "created_at": row.created_at.isoformat(),
        }
        for row in rows
    ]


# Transcripts


def transcript(user: User, conversation: Conversation) -> dict[str, Any]:
    messages = list(messages_visible(conversation, viewer=user).order_by("created_at", "id"))
    return {
        "conversation": conversation_summary(conversation, conversation_title(conversation)),
        "messages": [
            {
                "id": m.pk,
                "kind": m.sender_kind,
                "agent_type": m.agent_type,
                "content": m.body,
                "status": m.delivery_status,
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
        ],
        "action_cards": conversation_cards(conversation),
        "exported_by": user.username,
    }


SPEAKERS = {
    Message.SenderKind.USER: "You",
    Message.SenderKind.HUMAN: "Team member",
    Message.SenderKind.SYSTEM: "En Garde",
}


def transcript_json(user: User, conversation: Conversation) -> str:
    return json.dumps(transcript(user, conversation), indent=2, ensure_ascii=False)


def transcript_markdown(user: User, conversation: Conversation) -> str:
    data = transcript(user, conversation)
    summary = data["conversation"]
    lines = [
        f"# {summary['title']}",
        "",
        f"- Conversation: {summary['id']}",
        f"- Agent: {summary['agent_name'] or '-'}",
        f"- Started: {summary['started_at']}",
        f"- Exported by: {data['exported_by']}",
        "",
    ]
    for message in data["messages"]:
        speaker = SPEAKERS.get(message["kind"]) or agent_name(message["agent_type"]) or "Agent"
        lines += [f"## {speaker} · {message['created_at']}", "", message["content"], ""]
    if data["action_cards"]:
        lines += ["## Proposed actions", ""]
        for card in data["action_cards"]:
            title = card["title"] or card["action_type"]
            lines.append(f"- {title} ({card['status']})")
        lines.append("")
    return "\n".join(lines)
