"""Two daphne processes on the Redis channel layer and a real Celery worker: a message sent to
one server reaches the same person's tab open on the other, and so does the agent's reply, which
the worker (a third process) pushes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from accounts.models import User
from channels_app.chat.services import chat_conversation_create
from channels_app.models import Conversation
from tests.channels_app.chat.helpers import roas_question, session_cookie
from tests.channels_app.chat.servers import Daphne
from tests.integration.worker import Worker, broker, broker_url, worker_env

pytestmark = pytest.mark.django_db(transaction=True)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture
def servers(maya: User, request: pytest.FixtureRequest) -> Iterator[tuple[Daphne, Daphne]]:
    env = worker_env()
    name = request.node.name
    worker = Worker(env, ARTIFACTS / f"chat-worker-{name}.log")
    first = Daphne(env, ARTIFACTS / f"chat-daphne-a-{name}.log")
    second = Daphne(env, ARTIFACTS / f"chat-daphne-b-{name}.log")
    with broker(broker_url()):
        try:
            worker.start()
            first.start()
            second.start()
            yield first, second
        finally:
            for process in (first, second, worker):
                process.stop()


async def frames_until(ws: Any, event: str, timeout: float = 30) -> list[dict[str, Any]]:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads((await ws.receive()).data)
            seen.append(frame)
            if frame["event"] == event:
                return seen


def test_a_message_sent_on_one_server_reaches_a_tab_on_the_other(
    servers: tuple[Daphne, Daphne], maya: User
) -> None:
    first, second = servers
    conversation: Conversation = chat_conversation_create(
        user=maya, agent_type="paid_ads_optimization"
    )
    question, grounded = roas_question(maya.tenant)
    cookie = session_cookie(maya).decode()

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with aiohttp.ClientSession() as session:
            headers = {"Cookie": cookie}
            laptop = await session.ws_connect(
                f"ws://127.0.0.1:{first.port}/ws/chat/", headers=headers, origin=first.url
            )
            phone = await session.ws_connect(
                f"ws://127.0.0.1:{second.port}/ws/chat/", headers=headers, origin=second.url
            )
            await laptop.send_json(
                {
                    "event": "send_message",
                    "conversation_id": conversation.pk,
                    "client_id": "two-servers-0001",
                    "message": question,
                }
            )
            on_phone = await frames_until(phone, "agent_response")
            on_laptop = await frames_until(laptop, "agent_response")
            await laptop.close()
            await phone.close()
            return on_laptop, on_phone

    on_laptop, on_phone = asyncio.run(scenario())
    ack = on_laptop[0]
    assert ack["event"] == "message_received" and ack["client_id"] == "two-servers-0001"
    # The phone, on the other server, saw the message, the agent typing, then the reply.
    events = [frame["event"] for frame in on_phone]
    assert events[:2] == ["message_received", "agent_typing"], events
    assert on_phone[0]["message_id"] == ack["message_id"]
    for frames in (on_laptop, on_phone):
        assert grounded in frames[-1]["message"]["content"]
        assert frames[-1]["message"]["reply_to"] == ack["message_id"]
