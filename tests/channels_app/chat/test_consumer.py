"""The chat WebSocket through the real ASGI stack (origin check, session and token auth, the
consumer) with WebsocketCommunicator, on the Redis channel layer. A turn runs as the real Celery
task in this process: the router, the built-in agent on the demo data, the policy, and the chat
transport pushing over the channel layer back to the sockets."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings
from rest_framework.authtoken.models import Token

from accounts.models import Tenant, User
from accounts.roles import SUPER_ADMIN
from agents.models import AgentSettings, Campaign
from channels_app.chat.protocol import conversation_group
from channels_app.chat.services import chat_conversation_create
from channels_app.models import Channel, Conversation, Message, TurnState
from channels_app.outbound import message_deliver
from channels_app.tasks import process_turn_task
from hitl.models import Approval
from hitl.services import approval_approve
from tests.channels_app.chat.helpers import (
    RECOMMENDATION_QUESTION,
    communicator,
    receive_until,
    roas_question,
    session_cookie,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PAID_ADS = "paid_ads_optimization"
SEO = "seo_optimization"


def start_chat(user: User, agent_type: str = PAID_ADS) -> Conversation:
    return chat_conversation_create(user=user, agent_type=agent_type)


async def connected(user: User) -> Any:
    socket = communicator(cookie=await database_sync_to_async(session_cookie)(user))
    ok, code = await socket.connect()
    assert ok, code
    return socket


async def send(socket: Any, conversation: Conversation, text: str, client_id: str) -> None:
    await socket.send_json_to(
        {
            "event": "send_message",
            "conversation_id": conversation.pk,
            "client_id": client_id,
            "message": text,
        }
    )


async def run_turn(message_id: int) -> None:
    await database_sync_to_async(process_turn_task.apply)(args=[message_id])


async def error_of(socket: Any, frame: Any) -> dict[str, Any]:
    if isinstance(frame, str):
        await socket.send_to(text_data=frame)
    else:
        await socket.send_json_to(frame)
    reply = await socket.receive_json_from(timeout=5)
    assert reply["event"] == "error", reply
    return reply


# Who may connect


async def test_anonymous_connection_is_refused(transactional_db: None) -> None:
    socket = communicator()
    ok, code = await socket.connect()
    assert not ok and code == 4401


async def test_foreign_origin_is_refused_even_with_a_session(maya: User) -> None:
    cookie = await database_sync_to_async(session_cookie)(maya)
    socket = communicator(cookie=cookie, origin=(b"origin", b"https://evil.example"))
    ok, _ = await socket.connect()
    assert not ok


async def test_token_header_authenticates_and_a_wrong_one_is_refused(maya: User) -> None:
    token = await database_sync_to_async(Token.objects.create)(user=maya)
    socket = communicator(token=token.key)
    ok, _ = await socket.connect()
    assert ok
    await socket.disconnect()

    cookie = await database_sync_to_async(session_cookie)(maya)
    # A wrong token is not rescued by a valid session cookie.
    socket = communicator(cookie=cookie, token="not-a-token")
    ok, code = await socket.connect()
    assert not ok and code == 4401


async def test_platform_operator_without_a_tenant_is_refused(transactional_db: None) -> None:
    operator = await database_sync_to_async(UserFactory)(
        tenant=None, username="root", is_superuser=True, is_staff=True
    )
    socket = communicator(cookie=await database_sync_to_async(session_cookie)(operator))
    ok, code = await socket.connect()
    assert not ok and code == 4401


@override_settings(ENABLE_CHAT=False)
async def test_switched_off_chat_refuses_connections(maya: User) -> None:
    socket = communicator(cookie=await database_sync_to_async(session_cookie)(maya))
    ok, code = await socket.connect()
    assert not ok and code == 4503


@pytest.mark.parametrize(
    ("who", "chat_on"),
    [("anonymous", True), ("no-tenant", True), ("anonymous", False)],
    ids=["anonymous", "no-tenant", "switched-off"],
)
async def test_a_refused_connection_closes_without_an_error(
    transactional_db: None, caplog: pytest.LogCaptureFixture, who: str, chat_on: bool
) -> None:
    cookie = None
    if who == "no-tenant":
        operator = await database_sync_to_async(UserFactory)(
            tenant=None, username="root", is_superuser=True, is_staff=True
        )
        cookie = await database_sync_to_async(session_cookie)(operator)
    # The server tells the consumer the socket is gone after it refused it; nothing was set up.
    with override_settings(ENABLE_CHAT=chat_on), caplog.at_level(logging.WARNING):
        socket = communicator(cookie=cookie)
        ok, code = await socket.connect()
        assert not ok and code == (4401 if chat_on else 4503)
        await socket.disconnect()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


# The protocol, end to end


async def test_the_whole_protocol(maya: User, acme: Tenant, enqueued: list[int]) -> None:
    conversation = await database_sync_to_async(start_chat)(maya)
    question, grounded = await database_sync_to_async(roas_question)(acme)
    socket = await connected(maya)

    await socket.send_json_to({"event": "join_conversation", "conversation_id": conversation.pk})
    joined = await socket.receive_json_from()
    assert joined["event"] == "conversation_joined"
    assert joined["messages"] == [] and joined["cards"] == [] and not joined["processing"]
    assert joined["conversation"]["agent_type"] == PAID_ADS

    # send_message: acknowledged with the stored id, then the agent is typing.
    await send(socket, conversation, question, "client-0001")
    ack = await socket.receive_json_from()
    assert ack["event"] == "message_received" and ack["client_id"] == "client-0001"
    stored = await database_sync_to_async(Message.objects.get)(pk=ack["message_id"])
    assert stored.body == question and stored.conversation_id == conversation.pk
    assert stored.channel == Channel.CHAT and stored.turn_state == TurnState.PENDING
    assert ack["message"]["content"] == question and not ack["duplicate"]
    typing = await socket.receive_json_from()
    assert typing == {
        "event": "agent_typing",
        "conversation_id": conversation.pk,
        "message_id": stored.pk,
        "agent_type": PAID_ADS,
        "is_typing": True,
    }
    assert enqueued == [stored.pk]  # the turn was enqueued once, after commit

    # The worker answers: the typing stops, the question is delivered, the reply arrives.
    await run_turn(stored.pk)
    response, frames = await receive_until(socket, "agent_response")
    assert frames[0] == {
        "event": "agent_typing",
        "conversation_id": conversation.pk,
        "is_typing": False,
    }
    assert {"event": "message_status", "message_id": stored.pk, "status": "delivered"}.items() <= (
        frames[1].items()
    )
    reply = response["message"]
    assert grounded in reply["content"], reply["content"]
    assert grounded in reply["html"] and reply["html"].startswith("<p>")
    assert reply["kind"] == "agent" and reply["agent_type"] == PAID_ADS
    assert reply["reply_to"] == stored.pk and response["cards"] == []
    row = await database_sync_to_async(Message.objects.get)(pk=reply["id"])
    assert row.delivery_status == Message.DeliveryStatus.DELIVERED  # shown on an open page

    # mark_read: recorded, and every tab told.
    await socket.send_json_to(
        {"event": "mark_read", "conversation_id": conversation.pk, "message_id": reply["id"]}
    )
    receipt = await socket.receive_json_from()
    assert receipt["event"] == "read_receipt" and receipt["message_id"] == reply["id"]
    await database_sync_to_async(row.refresh_from_db)()
    assert row.delivery_status == Message.DeliveryStatus.READ

    # switch_agent: the conversation goes on with the SEO agent.
    await socket.send_json_to(
        {"event": "switch_agent", "conversation_id": conversation.pk, "agent_type": SEO}
    )
    switched = await socket.receive_json_from()
    assert switched["event"] == "agent_switched" and switched["agent_type"] == SEO
    assert switched["agent_name"] == "SEO Agent"
    await database_sync_to_async(conversation.refresh_from_db)()
    assert conversation.current_agent_type == SEO

    # typing: published to whoever watches the conversation live.
    layer = get_channel_layer()
    watcher = await layer.new_channel()
    await layer.group_add(conversation_group(conversation.pk), watcher)
    await socket.send_json_to(
        {"event": "typing", "conversation_id": conversation.pk, "is_typing": True}
    )
    watched = await layer.receive(watcher)
    assert watched["type"] == "chat.user_typing" and watched["user_id"] == maya.pk
    assert watched["is_typing"] is True
    await layer.group_discard(conversation_group(conversation.pk), watcher)
    await socket.disconnect()


async def test_a_reply_reaches_every_open_tab(maya: User, acme: Tenant, enqueued: list) -> None:
    conversation = await database_sync_to_async(start_chat)(maya)
    question, grounded = await database_sync_to_async(roas_question)(acme)
    phone, laptop = await connected(maya), await connected(maya)
    await send(phone, conversation, question, "client-tab-1")
    ack = await phone.receive_json_from()
    # The other tab sees the person's message and the agent typing.
    echoed = await laptop.receive_json_from()
    assert echoed["event"] == "message_received" and echoed["message_id"] == ack["message_id"]
    typing = await laptop.receive_json_from()
    assert typing["event"] == "agent_typing" and typing["is_typing"] is True
    await run_turn(ack["message_id"])
    for tab in (phone, laptop):
        response, _ = await receive_until(tab, "agent_response")
        assert grounded in response["message"]["content"]
    await phone.disconnect()
    await laptop.disconnect()


async def test_an_idempotent_resend_stores_and_answers_once(
    maya: User, acme: Tenant, enqueued: list[int]
) -> None:
    conversation = await database_sync_to_async(start_chat)(maya)
    socket = await connected(maya)
    await send(socket, conversation, "How are my campaigns doing?", "resend-0001")
    first = await socket.receive_json_from()
    await socket.receive_json_from()  # agent_typing
    # The page lost the ack and sends again, with the same client id.
    await send(socket, conversation, "How are my campaigns doing?", "resend-0001")
    second = await socket.receive_json_from()
    assert second["event"] == "message_received"
    assert second["message_id"] == first["message_id"] and second["duplicate"] is True
    assert await socket.receive_nothing(timeout=0.3)  # no second typing: no second turn
    count = await database_sync_to_async(
        Message.objects.filter(conversation=conversation, direction="inbound").count
    )()
    assert count == 1 and enqueued == [first["message_id"]]
    await socket.disconnect()


async def test_client_ids_of_different_people_do_not_collide(
    maya: User, leo: User, enqueued: list[int]
) -> None:
    mine = await database_sync_to_async(start_chat)(maya)
    theirs = await database_sync_to_async(start_chat)(leo)
    maya_socket, leo_socket = await connected(maya), await connected(leo)
    await send(maya_socket, mine, "maya's question", "same-client-id")
    await send(leo_socket, theirs, "leo's question", "same-client-id")
    maya_ack = await maya_socket.receive_json_from()
    leo_ack = await leo_socket.receive_json_from()
    assert maya_ack["message_id"] != leo_ack["message_id"]
    assert leo_ack["message"]["content"] == "leo's question"
    await maya_socket.disconnect()
    await leo_socket.disconnect()


async def test_reconnect_catches_up_on_exactly_what_was_missed(
    maya: User, acme: Tenant, enqueued: list[int]
) -> None:
    conversation = await database_sync_to_async(start_chat)(maya)
    question, grounded = await database_sync_to_async(roas_question)(acme)
    socket = await connected(maya)
    await send(socket, conversation, question, "catchup-0001")
    ack = await socket.receive_json_from()
    last_seen = ack["message_id"]
    await socket.disconnect()  # the train enters a tunnel

    await run_turn(last_seen)  # answered while nobody is connected
    missed = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(conversation=conversation, pk__gt=last_seen)
            .order_by("id")
            .values_list("id", flat=True)
        )
    )()
    assert missed

    socket = await connected(maya)
    await socket.send_json_to(
        {"event": "join_conversation", "conversation_id": conversation.pk, "after": last_seen}
    )
    joined = await socket.receive_json_from()
    assert joined["event"] == "conversation_joined" and joined["after"] == last_seen
    assert [m["id"] for m in joined["messages"]] == missed
    assert grounded in joined["messages"][-1]["content"]
    reply = await database_sync_to_async(Message.objects.get)(pk=missed[-1])
    assert reply.delivery_status == Message.DeliveryStatus.DELIVERED
    await socket.disconnect()


# Held replies


async def test_a_plain_roas_question_is_answered_at_once_and_changes_nothing(
    maya: User, acme: Tenant, enqueued: list[int]
) -> None:
    def statuses() -> dict[str, str]:
        return dict(Campaign.objects.filter(tenant=acme).values_list("name", "status"))

    before = await database_sync_to_async(statuses)()
    conversation = await database_sync_to_async(start_chat)(maya)
    socket = await connected(maya)
    await send(socket, conversation, "What is my current ROAS?", "roas-0001")
    ack = await socket.receive_json_from()
    await run_turn(ack["message_id"])
    response, _ = await receive_until(socket, "agent_response")
    assert (
        "ROAS" in response["message"]["content"] and "last 7 days" in response["message"]["content"]
    )
    assert response["cards"] == []
    assert not await database_sync_to_async(Approval.objects.filter(tenant=acme).exists)()
    assert await database_sync_to_async(statuses)() == before
    await socket.disconnect()


async def test_a_suggestion_comes_with_its_answer_as_a_pending_card_and_its_outcome_follows(
    maya: User, acme: Tenant, enqueued: list[int]
) -> None:
    approver = await database_sync_to_async(StaffFactory)(
        tenant=acme, username="boss", roles=[SUPER_ADMIN]
    )
    conversation = await database_sync_to_async(start_chat)(maya)
    socket = await connected(maya)
    await send(socket, conversation, RECOMMENDATION_QUESTION, "tip-0001")
    ack = await socket.receive_json_from()
    await run_turn(ack["message_id"])

    # The answer is not held for what it suggests: it arrives at once, says so, with the cards.
    response, _ = await receive_until(socket, "agent_response")
    content = response["message"]["content"]
    assert "💡 Suggestion" in content and "Nothing changes unless it is approved" in content
    cards = {card["action_type"]: card for card in response["cards"]}
    assert set(cards) == {"budget_increase", "campaign_pause"}
    assert {card["status"] for card in cards.values()} == {"pending"}
    assert all(card["reply_to"] == ack["message_id"] for card in cards.values())

    # A person approves the pause in the console: it runs, and the chat hears the outcome.
    def approve() -> None:
        approval_approve(approval_id=cards["campaign_pause"]["id"], user=approver)

    await database_sync_to_async(approve)()
    outcome, _ = await receive_until(socket, "system_message")
    assert outcome["message"]["content"].startswith("Done:")
    approval = await database_sync_to_async(Approval.objects.get)(pk=cards["campaign_pause"]["id"])
    assert approval.execution_status == "succeeded"
    await socket.disconnect()


async def test_a_held_reply_shows_action_cards_and_arrives_once_approved(
    maya: User, acme: Tenant, enqueued: list[int]
) -> None:
    # Manual mode: every reply waits for a person, with the actions it proposes.
    await database_sync_to_async(AgentSettings.objects.filter(tenant=acme).update)(mode="manual")
    conversation = await database_sync_to_async(start_chat)(maya)
    socket = await connected(maya)
    await send(socket, conversation, RECOMMENDATION_QUESTION, "held-0001")
    ack = await socket.receive_json_from()
    await run_turn(ack["message_id"])

    holding, frames = await receive_until(socket, "system_message")
    held = await database_sync_to_async(Message.objects.get)(
        reply_to_id=ack["message_id"], sender_kind="agent"
    )
    assert held.delivery_status == Message.DeliveryStatus.HELD
    # The person is told to wait, and sees what is proposed, never the held text itself.
    assert "double-check" in holding["message"]["content"]
    assert all(held.body not in json.dumps(frame) for frame in frames)
    cards = {card["action_type"]: card for card in holding["cards"]}
    assert "held_reply" in cards and "budget_increase" in cards
    budget = cards["budget_increase"]
    approval = await database_sync_to_async(Approval.objects.get)(pk=budget["id"])
    assert budget["title"] == approval.title and budget["title"].startswith("Raise")
    assert budget["risk_level"] == approval.risk_level
    assert budget["status"] == "pending" and budget["estimated_cost"] == str(
        approval.estimated_cost
    )
    assert budget["description"] and any(f["label"] == "Target ROAS" for f in budget["figures"])
    assert budget["reply_to"] == ack["message_id"]

    # Joining again shows the same cards, and still not the held reply.
    await socket.send_json_to({"event": "join_conversation", "conversation_id": conversation.pk})
    joined, _ = await receive_until(socket, "conversation_joined")
    assert {c["id"] for c in joined["cards"]} == {c["id"] for c in holding["cards"]}
    assert held.pk not in [m["id"] for m in joined["messages"]]

    # A person approves it, edited; the executor delivers it with message_deliver.
    def approve() -> None:
        Approval.objects.filter(message=held).update(status=Approval.Status.APPROVED)
        Message.objects.filter(pk=held.pk).update(
            body=held.body + "\n\n_Approved by your team._",
            delivery_status=Message.DeliveryStatus.QUEUED,
        )
        message_deliver(message=Message.objects.get(pk=held.pk))

    await database_sync_to_async(approve)()
    response, _ = await receive_until(socket, "agent_response")
    assert response["message"]["id"] == held.pk
    assert "<em>Approved by your team.</em>" in response["message"]["html"]
    assert {c["status"] for c in response["cards"]} == {"approved"}
    await database_sync_to_async(held.refresh_from_db)()
    assert held.delivery_status == Message.DeliveryStatus.DELIVERED
    await socket.disconnect()


# Bad frames, other people's conversations, limits


async def test_malformed_frames_get_errors_and_the_socket_stays_healthy(
    maya: User, enqueued: list[int]
) -> None:
    conversation = await database_sync_to_async(start_chat)(maya)
    socket = await connected(maya)
    assert (await error_of(socket, "{not json"))["error"] == "bad_json"
    assert (await error_of(socket, "[1, 2]"))["error"] == "invalid"
    unknown = await error_of(socket, {"event": "delete_everything"})
    assert unknown["error"] == "unknown_event" and "send_message" in unknown["detail"]
    assert (await error_of(socket, {"no": "event"}))["error"] == "unknown_event"
    missing = await error_of(socket, {"event": "send_message", "conversation_id": conversation.pk})
    assert missing["error"] == "invalid" and {"client_id", "message"} <= set(missing["fields"])
    bad_id = await error_of(
        socket, {"event": "join_conversation", "conversation_id": "'; drop table"}
    )
    assert "conversation_id" in bad_id["fields"]
    too_long = await error_of(
        socket,
        {
            "event": "send_message",
            "conversation_id": conversation.pk,
            "client_id": "too-long-0001",
            "message": "x" * 4001,
        },
    )
    assert too_long["error"] == "invalid" and too_long["client_id"] == "too-long-0001"
    assert "4,000" in too_long["fields"]["message"][0]
    assert (await error_of(socket, json.dumps({"event": "typing", "pad": "x" * 40_000})))[
        "error"
    ] == "too_large"
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from())["error"] == "invalid"
    assert not await database_sync_to_async(Message.objects.exists)()

    # Still healthy: a good frame works.
    await socket.send_json_to({"event": "join_conversation", "conversation_id": conversation.pk})
    assert (await socket.receive_json_from())["event"] == "conversation_joined"
    await socket.disconnect()


@pytest.mark.parametrize("whose", ["teammate", "other tenant", "deleted", "missing"])
async def test_other_peoples_conversations_are_not_found(
    maya: User, leo: User, ana: User, whose: str, enqueued: list[int]
) -> None:
    def target() -> int:
        if whose == "teammate":
            return start_chat(leo).pk
        if whose == "other tenant":
            return Conversation.objects.create(tenant=ana.tenant, user=ana, channel="chat").pk
        if whose == "deleted":
            own = start_chat(maya)
            Conversation.objects.filter(pk=own.pk).update(is_deleted=True)
            return own.pk
        return 999_999

    conversation_id = await database_sync_to_async(target)()
    socket = await connected(maya)
    for frame in (
        {"event": "join_conversation", "conversation_id": conversation_id},
        {
            "event": "send_message",
            "conversation_id": conversation_id,
            "client_id": "intruder-0001",
            "message": "let me in",
        },
        {"event": "typing", "conversation_id": conversation_id},
        {"event": "mark_read", "conversation_id": conversation_id, "message_id": 1},
        {"event": "switch_agent", "conversation_id": conversation_id, "agent_type": SEO},
    ):
        error = await error_of(socket, frame)
        assert error["error"] == "not_found", (frame, error)
        assert error["conversation_id"] == conversation_id
    assert not await database_sync_to_async(Message.objects.exists)()
    assert enqueued == []
    await socket.disconnect()


@override_settings(CHAT_MESSAGES_PER_MINUTE=2)
async def test_messages_are_rate_limited_per_user(maya: User, enqueued: list[int]) -> None:
    from django.core.cache import cache

    await database_sync_to_async(cache.clear)()
    conversation = await database_sync_to_async(start_chat)(maya)
    first_tab, second_tab = await connected(maya), await connected(maya)
    await send(first_tab, conversation, "one", "rate-0001")
    await receive_until(first_tab, "agent_typing")
    await send(second_tab, conversation, "two", "rate-0002")
    await receive_until(second_tab, "agent_typing")
    # The third message of the minute, from either tab, is refused and not stored.
    error = await error_of(
        first_tab,
        {
            "event": "send_message",
            "conversation_id": conversation.pk,
            "client_id": "rate-0003",
            "message": "three",
        },
    )
    assert error["error"] == "rate_limited" and error["client_id"] == "rate-0003"
    assert 1 <= error["retry_after"] <= 60
    assert len(enqueued) == 2
    await first_tab.disconnect()
    await second_tab.disconnect()


@override_settings(CHAT_POLL_SECONDS=0.1)
async def test_without_a_shared_layer_the_socket_finds_replies_in_the_database(
    maya: User,
) -> None:
    """The embedded mode's worker pushes into its own in-memory layer; the page still gets the
    reply, from the database."""
    conversation = await database_sync_to_async(start_chat)(maya)
    socket = await connected(maya)

    def stored_by_another_process() -> Message:
        return Message.objects.create(
            conversation=conversation,
            channel=Channel.CHAT,
            direction=Message.Direction.OUTBOUND,
            sender_kind=Message.SenderKind.AGENT,
            agent_type=PAID_ADS,
            body="**Spend** is on track.",
            delivery_status=Message.DeliveryStatus.SENT,
        )

    reply = await database_sync_to_async(stored_by_another_process)()
    response, _ = await receive_until(socket, "agent_response", timeout=5)
    assert response["message"]["id"] == reply.pk
    assert response["message"]["html"] == "<p><strong>Spend</strong> is on track.</p>\n"
    assert await socket.receive_nothing(timeout=0.4)  # once, not at every poll
    await database_sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == Message.DeliveryStatus.DELIVERED
    await socket.disconnect()
