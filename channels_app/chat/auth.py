"""`Authorization: Token <key>` on the WebSocket handshake, for clients that are not the page.

The session cookie is read by Channels' AuthMiddlewareStack (engarde/asgi.py) before this runs.
A token header, when present, decides alone: a wrong token is refused even if a session cookie
came along, so a client never ends up acting as someone it did not name.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for(header: bytes) -> Any:
    scheme, _, key = header.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "token" or not key.strip():
        return AnonymousUser()
    token = Token.objects.select_related("user").filter(key=key.strip()).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        header = dict(scope.get("headers", [])).get(b"authorization")
        if header is not None:
            scope = {**scope, "user": await _user_for(header)}
        return await super().__call__(scope, receive, send)
