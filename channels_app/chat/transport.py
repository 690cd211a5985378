"""Delivering to the chat page: a message is pushed over the channel layer to its person's group,
which every open tab of theirs joined, on whichever server it is connected.

The turn engine calls `send` (through `message_deliver`) for agent replies and holding messages,
and so does anyone else delivering to a chat (an approved held reply, an outcome notice). The
push carries what the page needs in one go: the typing indicator off, the person's message now
answered (`message_status` delivered), the message itself with its sanitised HTML, and the
action cards of its turn. `sent` means pushed; a page that shows it marks it `delivered`.

A push to a group nobody is in is not a failure: the person reads it in the history when they
come back. A channel layer that cannot be reached is (retryable).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from channels_app.chat.protocol import (
    AGENT_RESPONSE,
    AGENT_TYPING,
    STATUS,
    SYSTEM_MESSAGE,
    message_frame,
    user_group,
)
from channels_app.chat.selectors import turn_cards
from channels_app.models import Message
from channels_app.transports import SendResult, TransportError

logger = logging.getLogger(__name__)

PUSH = "chat.push"  # the consumer's handler: chat_push


def push_event(
    frames: list[dict[str, Any]], *, delivered: Sequence[int] = (), exclude: str = ""
) -> dict[str, Any]:
    """The channel-layer event carrying frames to a user's sockets. `delivered`: outbound message
    ids the receiving sockets mark delivered once shown; `exclude`: a socket that has the frames
    already."""
    return {"type": PUSH, "frames": frames, "delivered": list(delivered), "exclude": exclude}


def push(user_id: int, frames: list[dict[str, Any]], *, delivered: Sequence[int] = ()) -> None:
    """Send frames to every open socket of a user, from synchronous code (a worker)."""
    layer = get_channel_layer()
    if layer is None:
        raise TransportError("No channel layer is configured.", code="no_channel_layer")
    try:
        event = push_event(frames, delivered=delivered)
        async_to_sync(layer.group_send)(user_group(user_id), event)
    except Exception as exc:
        raise TransportError(
            f"Could not reach the channel layer ({type(exc).__name__}).",
            code="channel_layer",
            retryable=True,
        ) from exc


def delivery_frames(message: Message) -> list[dict[str, Any]]:
    conversation_id = message.conversation_id
    frames: list[dict[str, Any]] = [
        {"event": AGENT_TYPING, "conversation_id": conversation_id, "is_typing": False}
    ]
    if message.reply_to_id:
        frames.append(
            {
                "event": STATUS,
                "conversation_id": conversation_id,
                "message_id": message.reply_to_id,
                "status": Message.DeliveryStatus.DELIVERED,
            }
        )
    event = SYSTEM_MESSAGE if message.sender_kind == Message.SenderKind.SYSTEM else AGENT_RESPONSE
    frames.append(
        {
            "event": event,
            "conversation_id": conversation_id,
            "message_id": message.pk,
            "message": {**message_frame(message), "status": Message.DeliveryStatus.SENT},
            "cards": turn_cards(message),
        }
    )
    return frames


class ChatTransport:
    def send(self, message: Message) -> SendResult:
        user_id = message.conversation.user_id
        push(user_id, delivery_frames(message), delivered=[message.pk])
        logger.info("chat pushed: message=%s user=%s", message.pk, user_id)
        return SendResult(provider_id="", status=Message.DeliveryStatus.SENT)
