"""The console's live view socket, `/ws/console/`: a member of staff who may see the tenant's
conversations receives what happens in them (channels_app/live.py publishes), tenant-scoped and
masked. Read-only: the socket takes no frames."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from channels_app.live import console_group, latest_message_id, messages_since

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _may_watch(user: User) -> bool:
    return bool(user.tenant_id and user.has_perm("accounts.view_all_conversations"))


def _after(query_string: bytes) -> int | None:
    """`?after=<message id>`: the last message the page has; anything else is ignored."""
    values = parse_qs(query_string.decode("latin-1")).get("after", [])
    if len(values) == 1 and values[0].isdecimal() and len(values[0]) <= 18:
        return int(values[0])
    return None


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    poller: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user: object = self.scope.get("user")
        if not isinstance(user, User) or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        tenant_id = user.tenant_id
        if tenant_id is None or not await database_sync_to_async(_may_watch)(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = console_group(tenant_id)
        self.pushed: deque[int] = deque(maxlen=500)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        after = _after(self.scope.get("query_string", b""))
        if after is not None:
            # A page reconnecting after a drop says what it last saw: what it missed comes now.
            for frame in await database_sync_to_async(messages_since)(tenant_id, after):
                await self.console_update({"frame": frame})
        if settings.CHAT_POLL_SECONDS > 0:
            cursor = await database_sync_to_async(latest_message_id)(tenant_id)
            self.poller = asyncio.create_task(self._poll(tenant_id, cursor))

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"event": "error", "error": "read_only", "detail": "Nothing to send."})

    async def console_update(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        if frame.get("event") == "message":
            if frame["message"]["id"] in self.pushed:
                return  # already found by looking (see _poll)
            self.pushed.append(frame["message"]["id"])
        await self.send_json(frame)

    async def _poll(self, tenant_id: int, cursor: int) -> None:
        """Without a shared channel layer (`make run`), what a worker stores never reaches this
        process's groups: every CHAT_POLL_SECONDS, the tenant's new messages from the database."""
        while True:
            await asyncio.sleep(settings.CHAT_POLL_SECONDS)
            try:
                frames = await database_sync_to_async(messages_since)(tenant_id, cursor)
            except Exception:
                logger.warning("console poll failed: tenant=%s", tenant_id, exc_info=True)
                continue
            for frame in frames:
                cursor = max(cursor, frame["message"]["id"])
                if frame["message"]["id"] not in self.pushed:
                    self.pushed.append(frame["message"]["id"])
                    await self.send_json(frame)
