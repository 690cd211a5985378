"""What a viewer may see of a conversation, whatever its channel: its messages, a page of them,
the ones that match a search, and their text, masked per role.

Every surface that shows conversation text goes through here (the chat history and search, the
WhatsApp conversations API, the admin's transcript and the console's APIs): the person who owns
the conversation reads it whole; staff read it masked (`privacy.reveal.text_for`) unless they
revealed it with a justification and their role may see the kind of data. Held replies are
staff's business: the person sees them once approved. The approval explainer, in `hitl` below
this layer, calls the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from channels_app.models import Conversation, Message
from privacy.reveal import text_for


def text_shown(
    text: str, *, viewer: User, conversation: Conversation, revealed: bool = False
) -> str:
    if viewer.pk == conversation.user_id:
        return text
    return text_for(viewer, text, revealed=revealed)


def message_text(message: Message, *, viewer: User, revealed: bool = False) -> str:
    """The message's text as the viewer may read it (`revealed`: in a view where they revealed
    the conversation with a justification, logged)."""
    return text_shown(
        message.body, viewer=viewer, conversation=message.conversation, revealed=revealed
    )


def messages_visible(conversation: Conversation, *, viewer: User) -> QuerySet[Message]:
    """The conversation's messages the viewer may see: all of them for staff, all but the
    replies still held for approval for the person."""
    messages = Message.objects.filter(conversation=conversation)
    if viewer.pk == conversation.user_id:
        messages = messages.exclude(delivery_status=Message.DeliveryStatus.HELD)
    return messages


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]  # oldest first
    has_more: bool  # more before (`before` or neither given) or after (`after` given)


def message_page(
    conversation: Conversation,
    *,
    viewer: User,
    limit: int,
    before: int | None = None,
    after: int | None = None,
) -> MessagePage:
    """A page of the visible messages: the latest `limit` (before message `before`, when
    given), or the first `limit` after message `after`. Paged by id, never by counting."""
    messages = messages_visible(conversation, viewer=viewer)
    if after is not None:
        rows = list(messages.filter(pk__gt=after).order_by("id")[: limit + 1])
        return MessagePage(rows[:limit], has_more=len(rows) > limit)
    if before is not None:
        messages = messages.filter(pk__lt=before)
    rows = list(messages.order_by("-created_at", "-id")[: limit + 1])
    return MessagePage(list(reversed(rows[:limit])), has_more=len(rows) > limit)


def search_words(query: str) -> list[str]:
    return [word.casefold() for word in query.split() if word.strip()]


def message_search(
    messages: QuerySet[Message], query: str, *, limit: int, scan: int
) -> list[Message]:
    """The messages, newest first, that contain every word of `query`.

    Bodies are encrypted at rest, so the database cannot look inside them: the latest `scan`
    of `messages` are decrypted and matched here.
    """
    words = search_words(query)
    if not words:
        return []
    rows = messages.order_by("-created_at", "-id").only(
        "id", "conversation_id", "body", "sender_kind", "created_at"
    )[:scan]
    hits: list[Message] = []
    for row in rows:
        text = (row.body or "").casefold()
        if all(word in text for word in words):
            hits.append(row)
            if len(hits) >= limit:
                break
    return hits
