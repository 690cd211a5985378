"""Oversized frames on the chat socket, against a real daphne run as deployed: a frame over the
servers' 64 KB limit closes the socket with 1009 ("message too big") and a reason, which the
client sees, instead of a dropped connection; a frame under it that is still too long for a
chat message gets an error frame and the socket carries on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from accounts.models import User
from tests.channels_app.chat.helpers import session_cookie
from tests.channels_app.chat.servers import WEBSOCKET_MAX_BYTES, Daphne
from tests.factories import TenantFactory, UserFactory
from tests.integration.worker import worker_env

pytestmark = pytest.mark.django_db(transaction=True)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
MESSAGE_TOO_BIG = 1009


@pytest.fixture
def daphne() -> Iterator[Daphne]:
    server = Daphne(worker_env(), ARTIFACTS / "chat-frame-limits-daphne.log")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def cookie(transactional_db: None) -> str:
    user: User = UserFactory(tenant=TenantFactory(slug="acme"), username="maya")
    return session_cookie(user).decode()


def send_message_frame(text: str) -> str:
    return json.dumps(
        {
            "event": "send_message",
            "conversation_id": 1,
            "client_id": "frame-limits-1",
            "message": text,
        }
    )


def exchange(daphne: Daphne, cookie: str, frame: str) -> list[aiohttp.WSMessage]:
    """Send one frame, then a small one; what the server answered, up to its close."""

    async def scenario() -> list[aiohttp.WSMessage]:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(
                f"ws://127.0.0.1:{daphne.port}/ws/chat/",
                headers={"Cookie": cookie},
                origin=daphne.url,
            )
            await socket.send_str(frame)
            received = []
            async with asyncio.timeout(10):
                while True:
                    message = await socket.receive()
                    received.append(message)
                    if message.type != aiohttp.WSMsgType.TEXT:
                        return received
                    if len(received) == 1:  # the socket still works after an error frame
                        await socket.send_str("not json")
                    else:
                        await socket.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize("size", [WEBSOCKET_MAX_BYTES + 1, 1024 * 1024], ids=["64KB+1", "1MB"])
def test_a_frame_over_the_limit_closes_the_socket_with_1009(
    daphne: Daphne, cookie: str, size: int
) -> None:
    frame = send_message_frame("x" * size)

    [message] = exchange(daphne, cookie, frame)

    assert message.type == aiohttp.WSMsgType.CLOSE, message
    assert message.data == MESSAGE_TOO_BIG
    assert "exceeds payload limit" in message.extra


@pytest.mark.parametrize("chars", [4001, 40_000], ids=["over-a-message", "over-a-frame"])
def test_a_frame_under_the_limit_but_too_long_gets_an_error_frame(
    daphne: Daphne, cookie: str, chars: int
) -> None:
    frame = send_message_frame("x" * chars)
    assert len(frame) < WEBSOCKET_MAX_BYTES

    first, second, *_ = exchange(daphne, cookie, frame)

    error = json.loads(first.data)
    assert error["event"] == "error" and error["error"] in {"invalid", "too_large"}, error
    assert json.loads(second.data)["error"] == "bad_json"
