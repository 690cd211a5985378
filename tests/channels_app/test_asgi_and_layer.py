from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from engarde.asgi import application
from tests.channels_app.chat.helpers import session_cookie
from tests.factories import UserFactory


@pytest.mark.asyncio
async def test_redis_url_puts_the_channel_layer_on_redis() -> None:
    assert settings.REDIS_URL, "make test sets REDIS_URL"
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")
    channel = await layer.new_channel()
    await layer.group_add("engarde-test", channel)
    await layer.group_send("engarde-test", {"type": "ping", "n": 1})
    assert await layer.receive(channel) == {"type": "ping", "n": 1}
    await layer.group_discard("engarde-test", channel)


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_websocket_to_an_unknown_route_is_refused() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/nowhere/", headers=[(b"origin", b"http://localhost")]
    )
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "accepted"), [(b"https://evil.example", False), (b"http://localhost", True)]
)
async def test_websocket_from_a_foreign_origin_is_refused(origin: bytes, accepted: bool) -> None:
    """A signed-in person's socket, opened from a page on another site, is refused by the origin
    check alone: the same socket from our own origin connects (so it is not refused for want
    of a session)."""
    user = await database_sync_to_async(UserFactory)()
    cookie = await database_sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", origin), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected is accepted
    await communicator.disconnect()
