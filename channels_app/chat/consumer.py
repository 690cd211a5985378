"""The chat WebSocket at /ws/chat/ (protocol.py names the frames).

Every socket joins its user's group, so whatever is pushed to the user (a reply delivered by a
worker, a message sent from another tab, a read receipt) reaches all their tabs on every server.
Frames are validated one by one: a bad one gets an `error` frame and the socket carries on.

Sending is acknowledged (`message_received`, with the stored id) only once `message_receive`
has stored the message, and its turn is then enqueued on commit: an acknowledged message is
never lost, and a resend with the same `client_id` is acknowledged with the same id and starts
nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from agents.types import WALKER_AGENT_TYPES
from channels_app.chat import protocol as p
from channels_app.chat import selectors, services
from channels_app.chat.transport import delivery_frames, push_event
from channels_app.live import console_typing, typing_frame
from channels_app.models import Channel, Message

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): the page stops reconnecting on these.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_DISABLED = 4503
# A socket may send this many frames in FRAME_WINDOW seconds (typing included); more are refused
# with an error frame. The per-user message limit (CHAT_MESSAGES_PER_MINUTE) is separate.
FRAME_BURST = 60
FRAME_WINDOW = 10.0
# Room for the JSON around the longest allowed message, with every character escaped.
FRAME_OVERHEAD = 2048
CLIENT_ID = r"^[A-Za-z0-9_-]{8,64}$"


class ConversationFrame(serializers.Serializer):
    conversation_id = serializers.IntegerField(min_value=1)


class JoinFrame(ConversationFrame):
    after = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class SendFrame(ConversationFrame):
    client_id = serializers.RegexField(CLIENT_ID)
    message = serializers.CharField(trim_whitespace=False)
    agent_type = serializers.ChoiceField(choices=WALKER_AGENT_TYPES, required=False)

    def validate_message(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The message is empty.")
        limit = settings.CHAT_MAX_MESSAGE_CHARS
        if len(value) > limit:
            raise serializers.ValidationError(
                f"Messages are at most {limit:,} characters; this one has {len(value):,}."
            )
        return value


class TypingFrame(ConversationFrame):
    is_typing = serializers.BooleanField(default=True)


class MarkReadFrame(ConversationFrame):
    message_id = serializers.IntegerField(min_value=1)


class SwitchAgentFrame(ConversationFrame):
    agent_type = serializers.ChoiceField(choices=WALKER_AGENT_TYPES)


FRAMES: dict[str, type[serializers.Serializer]] = {
    p.JOIN: JoinFrame,
    p.SEND: SendFrame,
    p.TYPING: TypingFrame,
    p.MARK_READ: MarkReadFrame,
    p.SWITCH_AGENT: SwitchAgentFrame,
}


class FrameError(Exception):
    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(frame.get("detail", ""))
        self.frame = frame


def max_frame_chars() -> int:
    return int(settings.CHAT_MAX_MESSAGE_CHARS) * 6 + FRAME_OVERHEAD


@dataclass(frozen=True)
class Frame:
    event: str
    data: dict[str, Any]  # the event's serializer's validated data
    client_id: str | None  # the client's id for the message, echoed in an error about it


def frame_parse(text_data: str | None) -> Frame:
    """One frame from a client (`text_data` None for a binary one), validated; or FrameError
    with the error frame to answer."""
    if text_data is None:
        raise FrameError(p.error_frame("invalid", "Frames are JSON text, not binary."))
    if len(text_data) > max_frame_chars():
        raise FrameError(p.error_frame("too_large", "This frame is too large."))
    try:
        content = json.loads(text_data)
    except ValueError:
        raise FrameError(p.error_frame("bad_json", "This frame is not JSON.")) from None
    except RecursionError:  # json descends once per level: a small frame of `[` gets here
        raise FrameError(p.error_frame("bad_json", "This frame is nested too deeply.")) from None
    if not isinstance(content, dict):
        raise FrameError(p.error_frame("invalid", "A frame is a JSON object."))
    event = content.get("event")
    serializer_class = FRAMES.get(event) if isinstance(event, str) else None
    if not isinstance(event, str) or serializer_class is None:
        raise FrameError(
            p.error_frame(
                "unknown_event",
                f"Unknown event {event!r}; expected one of {', '.join(p.CLIENT_EVENTS)}.",
            )
        )
    client_id = _text(content.get("client_id"))
    serializer = serializer_class(data=content)
    if not serializer.is_valid():
        raise FrameError(
            p.error_frame(
                "invalid",
                "Some fields are invalid.",
                fields=serializer.errors,
                request=event,
                client_id=client_id,
            )
        )
    return Frame(event=event, data=dict(serializer.validated_data), client_id=client_id)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    user: User
    group: str
    # Set once a connection is accepted; a refused one still gets disconnect() from the server.
    poller: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        if not settings.ENABLE_CHAT:
            await self.close(code=CLOSE_DISABLED)
            return
        # The auth middlewares leave a User (perhaps a lazy one), an AnonymousUser or nothing:
        # more than the stubs' scope type says, so checked from `object`.
        user: object = self.scope.get("user")
        if not isinstance(user, User) or not user.is_active or user.tenant_id is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.group = p.user_group(user.pk)
        self.frame_times: deque[float] = deque()
        self.owned: set[int] = set()
        self.pushed: deque[int] = deque(maxlen=500)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if settings.CHAT_POLL_SECONDS > 0:
            cursor = await database_sync_to_async(_latest_outbound_id)(user)
            self.poller = asyncio.create_task(self._poll(cursor))

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # Receiving

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        try:
            await self._receive(text_data, bytes_data)
        except FrameError as error:
            await self.send_json(error.frame)
        except Exception:
            # One bad frame must not take the socket (and the person's other messages) down.
            logger.exception("chat frame failed: user=%s", self.user.pk)
            await self.send_json(p.error_frame("server_error", "Something went wrong on our side."))

    async def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        # Frames refused unread (binary, too large) do not count against the socket's burst.
        if text_data is not None and len(text_data) <= max_frame_chars():
            self._throttle()
        frame = frame_parse(text_data)
        handler = getattr(self, "on_" + frame.event)
        try:
            await handler(frame.data)
        except services.ChatError as error:
            raise FrameError(
                p.error_frame(
                    error.code,
                    error.detail,
                    fields={error.field: [error.detail]} if error.field else None,
                    request=frame.event,
                    client_id=frame.client_id,
                    conversation_id=frame.data.get("conversation_id"),
                    retry_after=getattr(error, "retry_after", None),
                )
            ) from None

    def _throttle(self) -> None:
        now = time.monotonic()
        while self.frame_times and now - self.frame_times[0] > FRAME_WINDOW:
            self.frame_times.popleft()
        if len(self.frame_times) >= FRAME_BURST:
            raise FrameError(
                p.error_frame("rate_limited", "Too many frames: slow down.", retry_after=1)
            )
        self.frame_times.append(now)

    # Handlers, one per client event

    async def on_join_conversation(self, data: dict[str, Any]) -> None:
        frame = await database_sync_to_async(_joined)(
            self.user, data["conversation_id"], data.get("after")
        )
        self.owned.add(data["conversation_id"])
        await self.send_json(frame)
        delivered = [
            m["id"] for m in frame["messages"] if m["status"] == Message.DeliveryStatus.SENT
        ]
        if delivered:
            await database_sync_to_async(services.chat_mark_delivered)(message_ids=delivered)

    async def on_send_message(self, data: dict[str, Any]) -> None:
        await database_sync_to_async(services.rate_check)(user_id=self.user.pk)
        received = await database_sync_to_async(services.chat_message_receive)(
            user=self.user,
            conversation_id=data["conversation_id"],
            text=data["message"],
            client_id=data["client_id"],
            agent_type=data.get("agent_type", ""),
        )
        message = received.result.message
        frame = {
            "event": p.RECEIVED,
            "message_id": message.pk,
            "client_id": data["client_id"],
            "conversation_id": message.conversation_id,
            "status": "received",
            "duplicate": not received.result.created,
            "timestamp": message.created_at.isoformat(),
            "message": p.message_frame(message),
        }
        await self.send_json(frame)
        frames = [frame]
        if received.turn_started:
            frames.append(
                {
                    "event": p.AGENT_TYPING,
                    "conversation_id": message.conversation_id,
                    "message_id": message.pk,
                    "agent_type": received.agent_type,
                    "is_typing": True,
                }
            )
            await self.send_json(frames[-1])
            await console_typing(
                self.user.tenant_id,  # type: ignore[arg-type]
                typing_frame(message.conversation_id, who="agent", is_typing=True),
            )
        if received.result.created:
            # The person's other tabs: the message, and the agent now typing.
            await self._push(frames, exclude=self.channel_name)

    async def on_typing(self, data: dict[str, Any]) -> None:
        conversation_id = data["conversation_id"]
        await self._require_owned(conversation_id)
        await self.channel_layer.group_send(
            p.conversation_group(conversation_id),
            {
                "type": "chat.user_typing",
                "conversation_id": conversation_id,
                "user_id": self.user.pk,
                "is_typing": data["is_typing"],
            },
        )
        # The console's live view of the conversation sees it too.
        await console_typing(
            self.user.tenant_id,  # type: ignore[arg-type]
            typing_frame(conversation_id, who="person", is_typing=data["is_typing"]),
        )

    async def on_mark_read(self, data: dict[str, Any]) -> None:
        await database_sync_to_async(services.chat_mark_read)(
            user=self.user, conversation_id=data["conversation_id"], up_to=data["message_id"]
        )
        await self._push(
            [
                {
                    "event": p.READ_RECEIPT,
                    "conversation_id": data["conversation_id"],
                    "message_id": data["message_id"],
                    "read_at": timezone.now().isoformat(),
                }
            ]
        )

    async def on_switch_agent(self, data: dict[str, Any]) -> None:
        conversation = await database_sync_to_async(services.chat_agent_switch)(
            user=self.user, conversation_id=data["conversation_id"], agent_type=data["agent_type"]
        )
        await self._push([_switched(conversation)])

    async def _require_owned(self, conversation_id: int) -> None:
        if conversation_id in self.owned:
            return
        found = await database_sync_to_async(selectors.conversation_get)(
            user=self.user, conversation_id=conversation_id
        )
        if found is None:
            raise services.ConversationNotFound()
        self.owned.add(conversation_id)

    async def _push(self, frames: list[dict[str, Any]], *, exclude: str = "") -> None:
        await self.channel_layer.group_send(self.group, push_event(frames, exclude=exclude))

    # Channel-layer events

    async def chat_push(self, event: dict[str, Any]) -> None:
        if event.get("exclude") == self.channel_name:
            return
        for frame in event["frames"]:
            if frame["event"] in (p.AGENT_RESPONSE, p.SYSTEM_MESSAGE):
                self.pushed.append(frame["message_id"])
            await self.send_json(frame)
        if event.get("delivered"):
            await database_sync_to_async(services.chat_mark_delivered)(
                message_ids=event["delivered"]
            )

    # Without a cross-process channel layer

    async def _poll(self, cursor: int) -> None:
        """Deliver what a worker in another process stored but could not push (see
        CHAT_POLL_SECONDS): replies with an id past the cursor, or still only `sent`."""
        while True:
            await asyncio.sleep(settings.CHAT_POLL_SECONDS)
            try:
                found = await database_sync_to_async(_undelivered)(self.user, cursor)
            except Exception:
                logger.warning("chat poll failed: user=%s", self.user.pk, exc_info=True)
                continue
            for message_id, frames in found:
                cursor = max(cursor, message_id)
                if message_id in self.pushed:
                    continue
                await self.chat_push({"frames": frames, "delivered": [message_id]})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 64 else None


def _joined(user: User, conversation_id: int, after: int | None) -> dict[str, Any]:
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise services.ConversationNotFound()
    if after is None:
        page = selectors.history_before(user, conversation, before=None)
    else:
        page = selectors.messages_after(user, conversation, after=after)
    return {
        "event": p.JOINED,
        "conversation_id": conversation.pk,
        "conversation": selectors.conversation_summary(
            conversation, selectors.conversation_title(conversation)
        ),
        "after": after,
        "messages": page.messages,
        "has_more": page.has_more,
        "cards": selectors.conversation_cards(conversation),
        "processing": selectors.is_processing(conversation),
    }


def _switched(conversation: Any) -> dict[str, Any]:
    return {
        "event": p.AGENT_SWITCHED,
        "conversation_id": conversation.pk,
        "agent_type": conversation.current_agent_type,
        "agent_name": p.agent_name(conversation.current_agent_type),
    }


def _latest_outbound_id(user: User) -> int:
    latest = (
        Message.objects.filter(
            conversation__user=user,
            conversation__channel=Channel.CHAT,
            direction=Message.Direction.OUTBOUND,
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return latest or 0


def _undelivered(user: User, cursor: int) -> list[tuple[int, list[dict[str, Any]]]]:
    rows = (
        Message.objects.filter(
            conversation__user=user,
            conversation__channel=Channel.CHAT,
            conversation__is_deleted=False,
            direction=Message.Direction.OUTBOUND,
        )
        .filter(Q(pk__gt=cursor) | Q(delivery_status=Message.DeliveryStatus.SENT))
        .exclude(delivery_status__in=(Message.DeliveryStatus.HELD, Message.DeliveryStatus.QUEUED))
        .select_related("conversation")
        .order_by("id")[:50]
    )
    return [(row.pk, delivery_frames(row)) for row in rows]
