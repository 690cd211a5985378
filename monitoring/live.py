"""The console's live view socket, `/ws/console/`: a member of staff who may see the tenant's
conversations receives what happens in them (channels_app/live.py publishes), tenant-scoped and
masked. Read-only: the socket takes no frames."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.models import User
from channels_app.live import console_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _may_watch(user: User) -> bool:
    return bool(user.tenant_id and user.has_perm("accounts.view_all_conversations"))


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user: object = self.scope.get("user")
        if not isinstance(user, User) or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(_may_watch)(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = console_group(user.tenant_id)  # type: ignore[arg-type]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"event": "error", "error": "read_only", "detail": "Nothing to send."})

    async def console_update(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])
