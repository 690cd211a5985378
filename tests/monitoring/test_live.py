"""The console's live socket through the real ASGI stack on the Redis channel layer: staff of the
tenant receive what happens in its conversations, masked; nobody else does."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from accounts.models import User
from accounts.roles import MEMBER, READ_ONLY_ADMIN, SUPER_ADMIN, SUPPORT_ADMIN
from channels_app.models import Channel, Conversation, Message
from channels_app.outbound import message_store
from channels_app.takeover import conversation_takeover
from engarde.asgi import application
from tests.channels_app.chat.helpers import ORIGIN, communicator, session_cookie
from tests.factories import ConversationFactory, StaffFactory, TenantFactory, UserFactory

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]


async def socket_of(user: User, query: str = "") -> Any:
    cookie = await database_sync_to_async(session_cookie)(user)
    return WebsocketCommunicator(
        application, f"/ws/console/{query}", headers=[ORIGIN, (b"cookie", cookie)]
    )


async def connected(user: User, query: str = "") -> Any:
    """The console's socket of `user`, open: the test fails if it is refused."""
    socket = await socket_of(user, query)
    assert (await socket.connect())[0]
    return socket


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
    watching = await connected(people["readonly"])
    outsider = await connected(people["outsider"])

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
async def test_people_without_the_console_are_refused(
    who: str, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    people = await database_sync_to_async(world)()
    socket = await socket_of(people[who])
    with caplog.at_level(logging.WARNING):
        connected, closed = await socket.connect()
        await socket.disconnect()
    assert not connected and closed == code
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_an_anonymous_socket_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    socket = WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN])
    with caplog.at_level(logging.WARNING):
        connected, closed = await socket.connect()
        await socket.disconnect()
    assert not connected and closed == 4401
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_a_person_typing_on_chat_shows_in_the_console() -> None:
    people = await database_sync_to_async(world)()
    conversation: Conversation = people["conversation"]
    watching = await connected(people["support"])
    outsider = await connected(people["outsider"])
    chat = communicator(cookie=await database_sync_to_async(session_cookie)(people["maya"]))
    assert (await chat.connect())[0]
    await chat.send_json_to({"event": "join_conversation", "conversation_id": conversation.pk})
    assert (await chat.receive_json_from(timeout=5))["event"] == "conversation_joined"

    for is_typing in (True, False):
        await chat.send_json_to(
            {"event": "typing", "conversation_id": conversation.pk, "is_typing": is_typing}
        )
        frame = await watching.receive_json_from(timeout=5)
        assert frame == {
            "event": "typing",
            "conversation_id": conversation.pk,
            "who": "person",
            "is_typing": is_typing,
        }
    assert await outsider.receive_nothing(timeout=0.5)
    for socket in (chat, watching, outsider):
        await socket.disconnect()


async def test_without_a_shared_layer_the_console_finds_new_messages_by_looking() -> None:
    """`make run`: a worker's process has its own in-memory layer, so what it stores is never
    pushed here. The socket looks in the database every CHAT_POLL_SECONDS instead, once per
    message, the tenant's only."""
    people = await database_sync_to_async(world)()
    conversation: Conversation = people["conversation"]
    elsewhere = await database_sync_to_async(ConversationFactory)(tenant=people["outsider"].tenant)

    def stored_by_another_process(conversation: Conversation, body: str) -> int:
        return Message.objects.create(
            conversation=conversation, channel=conversation.channel, body=body
        ).pk

    with override_settings(CHAT_POLL_SECONDS=0.2):
        watching = await connected(people["support"])
        await database_sync_to_async(stored_by_another_process)(elsewhere, "Globex only")
        first = await database_sync_to_async(stored_by_another_process)(
            conversation, "My card is 4111 1111 1111 1111"
        )
        frame = await watching.receive_json_from(timeout=5)
        assert frame["event"] == "message" and frame["message"]["id"] == first
        assert "4111 1111" not in frame["message"]["text"]
        # Pushed and then found by looking: shown once.
        await database_sync_to_async(message_store)(
            conversation=conversation, sender_kind="user", body="And a second one"
        )
        pushed = await watching.receive_json_from(timeout=5)
        assert pushed["message"]["text"] == "And a second one"
        assert await watching.receive_nothing(timeout=0.8)
        await watching.disconnect()


async def test_a_reconnecting_page_gets_what_it_missed() -> None:
    """The thread reconnects with the newest message it shows: what came after it (while the
    socket was down, or before it first opened) arrives at once, the tenant's only."""
    people = await database_sync_to_async(world)()
    conversation: Conversation = people["conversation"]

    def store(conversation: Conversation, body: str) -> int:
        return message_store(conversation=conversation, sender_kind="user", body=body).pk

    seen = await database_sync_to_async(store)(conversation, "Seen before the drop")
    missed = await database_sync_to_async(store)(conversation, "Sent while the socket was down")
    elsewhere = await database_sync_to_async(ConversationFactory)(tenant=people["outsider"].tenant)
    await database_sync_to_async(store)(elsewhere, "Globex only")
    socket = await connected(people["support"], f"?after={seen}")
    frame = await socket.receive_json_from(timeout=5)
    assert frame["message"]["id"] == missed and frame["conversation_id"] == conversation.pk
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
    junk = await connected(people["support"], "?after=x1")
    assert await junk.receive_nothing(timeout=0.5)
    await junk.disconnect()
