"""The console's live view: what happens in a tenant's conversations, pushed to its staff's open
console pages over the channel layer (the consumer is monitoring's). Frames carry the text
masked, as every role reads it by default; a failure here never fails the message itself."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from channels_app.models import Conversation, Message
from privacy.masking import mask_text

logger = logging.getLogger(__name__)

CONSOLE_UPDATE = "console.update"  # the consumer's handler: console_update


def console_group(tenant_id: int) -> str:
    return f"console-tenant-{tenant_id}"


def _send(tenant_id: int, frame: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            console_group(tenant_id), {"type": CONSOLE_UPDATE, "frame": frame}
        )
    except Exception:
        logger.warning("live view: could not publish to tenant %s", tenant_id, exc_info=True)


def console_publish(tenant_id: int, frame: dict[str, Any]) -> None:
    """Publish once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send(tenant_id, frame))


def message_frame(message: Message) -> dict[str, Any]:
    return {
        "event": "message",
        "conversation_id": message.conversation_id,
        "message": {
            "id": message.pk,
            "sender_kind": message.sender_kind,
            "agent_type": message.agent_type,
            "operator_name": (message.metadata or {}).get("operator_name", ""),
            "text": mask_text(message.body or ""),
            "delivery_status": message.delivery_status,
            "created_at": message.created_at.isoformat(),
        },
    }


def typing_frame(conversation_id: int, *, who: str, is_typing: bool) -> dict[str, Any]:
    """Someone is typing in a conversation: `person` (on chat) or `agent` (a turn started)."""
    return {
        "event": "typing",
        "conversation_id": conversation_id,
        "who": who,
        "is_typing": is_typing,
    }


async def console_typing(tenant_id: int, frame: dict[str, Any]) -> None:
    """From a socket (no transaction to wait for): typing is news only now."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(console_group(tenant_id), {"type": CONSOLE_UPDATE, "frame": frame})
    except Exception:
        logger.warning("live view: could not publish typing to tenant %s", tenant_id, exc_info=True)


def messages_since(tenant_id: int, after: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """The tenant's messages stored after message `after`, as frames: what a socket without a
    shared channel layer finds by looking (see CHAT_POLL_SECONDS)."""
    found = (
        Message.objects.filter(conversation__tenant_id=tenant_id, pk__gt=after)
        .order_by("pk")
        .only(
            "id",
            "conversation_id",
            "sender_kind",
            "agent_type",
            "metadata",
            "body",
            "delivery_status",
            "created_at",
        )[:limit]
    )
    return [message_frame(message) for message in found]


def latest_message_id(tenant_id: int) -> int:
    latest = Message.objects.filter(conversation__tenant_id=tenant_id).order_by("-pk")
    return latest.values_list("pk", flat=True).first() or 0


def message_published(message: Message, *, tenant_id: int) -> None:
    console_publish(tenant_id, message_frame(message))


def status_published(message: Message, *, tenant_id: int, status: str) -> None:
    console_publish(
        tenant_id,
        {
            "event": "status",
            "conversation_id": message.conversation_id,
            "message_id": message.pk,
            "delivery_status": status,
        },
    )


def conversation_published(conversation: Conversation) -> None:
    operator = conversation.human_operator
    console_publish(
        conversation.tenant_id,
        {
            "event": "conversation",
            "conversation_id": conversation.pk,
            "status": conversation.status,
            "priority": conversation.priority,
            "human_operator": (operator.first_name or operator.username) if operator else None,
        },
    )
