"""The console's live socket through the real ASGI stack on the Redis channel layer: staff of the
tenant receive what happens in its conversations, masked; nobody else does."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import User
from accounts.roles import MEMBER, READ_ONLY_ADMIN, SUPER_ADMIN, SUPPORT_ADMIN
from channels_app.models import Channel, Conversation
from channels_app.outbound import message_store
from channels_app.takeover import conversation_takeover
from engarde.asgi import application
from tests.channels_app.chat.helpers import ORIGIN, session_cookie
from tests.factories import ConversationFactory, StaffFactory, TenantFactory, UserFactory

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]


async def socket_of(user: User) -> Any:
    cookie = await database_sync_to_async(session_cookie)(user)
    return WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN, (b"cookie", cookie)])


def world() -> dict[str, Any]:
    acme, globex = TenantFactory(slug="acme"), TenantFactory(slug="globex")
    maya = UserFactory(tenant=acme, username="maya")
    return {
        "conversation": ConversationFactory(tenant=acme, user=maya, channel=Channel.CHAT),
        "support": StaffFactory(tenant=acme, username="support", roles=[SUPPORT_ADMIN]),
        "readonly": StaffFactory(tenant=acme, username="readonly", roles=[READ_ONLY_ADMIN]),
        "member": StaffFactory(tenant=acme, username="member", roles=[MEMBER]),
        "outsider": StaffFactory(tenant=globex, username="outsider", roles=[SUPER_ADMIN]),
        "maya": maya,
    }


async def test_staff_see_new_messages_masked_and_takeovers() -> None:
    people = await database_sync_to_async(world)()
    conversation: Conversation = people["conversation"]
    watching = await socket_of(people["readonly"])
    assert (await watching.connect())[0]
    outsider = await socket_of(people["outsider"])
    assert (await outsider.connect())[0]

    await database_sync_to_async(message_store)(
        conversation=conversation, sender_kind="user", body="Call me on +1 415 555 0142 please"
    )
    frame = await watching.receive_json_from(timeout=5)
    assert frame["event"] == "message" and frame["conversation_id"] == conversation.pk
    assert frame["message"]["text"] == "Call me on +1-***-***-0142 please"

    await database_sync_to_async(conversation_takeover)(
        conversation=conversation, operator=people["support"]
    )
    frames = [await watching.receive_json_from(timeout=5) for _ in range(2)]
    events = {f["event"]: f for f in frames}
    assert events["conversation"]["status"] == "human"
    assert events["conversation"]["human_operator"] == "support"
    assert events["message"]["message"]["sender_kind"] == "system"
    status = await watching.receive_json_from(timeout=5)  # the join message, pushed to chat
    assert status["event"] == "status" and status["delivery_status"] == "sent"

    assert await outsider.receive_nothing(timeout=0.5)
    await watching.disconnect()
    await outsider.disconnect()


@pytest.mark.parametrize(("who", "code"), [("member", 4403), ("maya", 4403)])
async def test_people_without_the_console_are_refused(who: str, code: int) -> None:
    people = await database_sync_to_async(world)()
    socket = await socket_of(people[who])
    connected, closed = await socket.connect()
    assert not connected and closed == code


async def test_an_anonymous_socket_is_refused() -> None:
    socket = WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN])
    connected, closed = await socket.connect()
    assert not connected and closed == 4401
