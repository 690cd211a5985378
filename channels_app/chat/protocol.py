"""The chat WebSocket protocol: group names and the frames both sides of a socket exchange.

Frames are JSON objects `{"event": <name>, ...}`. Every frame the server sends for a message
carries the same message shape as the REST history (`message_frame`), so the page draws a bubble
the same way whichever way it arrived.
"""

from __future__ import annotations

from typing import Any

from agents.types import AgentType
from channels_app.chat.render import markdown_html
from channels_app.models import Message, TurnState

# Client -> server
JOIN = "join_conversation"
SEND = "send_message"
TYPING = "typing"
MARK_READ = "mark_read"
SWITCH_AGENT = "switch_agent"
CLIENT_EVENTS = (JOIN, SEND, TYPING, MARK_READ, SWITCH_AGENT)

# Server -> client
JOINED = "conversation_joined"
RECEIVED = "message_received"
AGENT_TYPING = "agent_typing"
AGENT_RESPONSE = "agent_response"
SYSTEM_MESSAGE = "system_message"
STATUS = "message_status"
READ_RECEIPT = "read_receipt"
AGENT_SWITCHED = "agent_switched"
ERROR = "error"

# Inbound chat messages are stored with provider id "u<user id>:<client id>": unique per
# channel, as the turn engine wants, without one person's client ids colliding with another's.
PROVIDER_PREFIX = "u{user_id}:"


def user_group(user_id: int) -> str:
    """Every open socket of one user, on every server: where their messages are pushed."""
    return f"chat.user.{user_id}"


def conversation_group(conversation_id: int) -> str:
    """Whoever watches one conversation live besides its owner (the console's live view): the
    owner's typing is published here."""
    return f"chat.conversation.{conversation_id}"


def provider_id_for(*, user_id: int, client_id: str) -> str:
    return PROVIDER_PREFIX.format(user_id=user_id) + client_id


def client_id_of(message: Message) -> str | None:
    if message.direction != Message.Direction.INBOUND or not message.provider_id:
        return None
    return message.provider_id.partition(":")[2] or None


def agent_name(agent_type: str) -> str:
    return str(AgentType(agent_type).label) if agent_type in AgentType.values else ""


def status_of(message: Message) -> str:
    """A person's own message reads `delivered` once its turn is over (an agent has it), else
    `received` (stored); replies carry their delivery status."""
    if message.direction == Message.Direction.INBOUND:
        answered = message.turn_state == TurnState.DONE
        return Message.DeliveryStatus.DELIVERED if answered else message.delivery_status
    return message.delivery_status


def message_frame(message: Message, *, bookmarked: bool = False) -> dict[str, Any]:
    """One message as the page shows it: raw text and sanitised HTML side by side."""
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "kind": message.sender_kind,
        "content": message.body,
        "html": markdown_html(message.body),
        "agent_type": message.agent_type,
        "agent_name": agent_name(message.agent_type),
        # A human operator's reply is labelled as the person, never as the agent.
        "sender_name": (message.metadata or {}).get("operator_name", ""),
        "status": status_of(message),
        "reply_to": message.reply_to_id,
        "client_id": client_id_of(message),
        "created_at": message.created_at.isoformat(),
        "bookmarked": bookmarked,
    }


def error_frame(
    code: str, detail: str, *, fields: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """The REST error shape (engarde/errors.py) as a frame."""
    frame: dict[str, Any] = {"event": ERROR, "error": code, "detail": detail}
    if fields:
        frame["fields"] = fields
    frame.update({key: value for key, value in extra.items() if value is not None})
    return frame
