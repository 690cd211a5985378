"""Priority routing: each person's message gets a sentiment and a priority, the conversation a
rolling one, and a high-priority conversation nobody answers is announced once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import SUPPORT_ADMIN
from channels_app.events import Event, EventKind
from channels_app.inbound import InboundMessage, message_receive
from channels_app.models import Channel, Conversation, Message
from channels_app.outbound import message_store
from channels_app.triage import message_priority, priority_alerts_send, sentiment_score
from hitl.models import Notification
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("What is my ROAS this month?", "normal"),
        ("Thanks, that's great!", "normal"),
        ("URGENT: please call me", "urgent"),
        ("The dashboard is down and I am furious, this is terrible", "urgent"),
        ("This is the worst, useless, horrible service ever!!!", "urgent"),
        ("We are wasting money on the TikTok campaign", "high"),
        ("The tracking pixel is not working", "high"),
        ("Can I talk to a real person?", "high"),
        ("Raise the Meta budget by $500", "high"),
        ("Please delete my account", "high"),
        ("I'm disappointed with these results", "high"),
    ],
)
def test_a_messages_priority_comes_from_what_was_written(text: str, priority: str) -> None:
    assert message_priority(text, sentiment_score(text))[0] == priority


def receive(conversation: Conversation, text: str, n: int) -> Message:
    return message_receive(
        InboundMessage(
            tenant=conversation.tenant,
            user=conversation.user,
            channel=conversation.channel,
            provider_id=f"chat-{n}",
            text=text,
            conversation=conversation,
        ),
        start_turn=False,
    ).message


@pytest.fixture
def conversation(people: TenantPeople) -> Conversation:
    maya = UserFactory(tenant=people.tenant, username="maya")
    return ConversationFactory(tenant=people.tenant, user=maya, channel=Channel.CHAT)


def test_the_conversation_keeps_a_rolling_sentiment_and_priority(
    conversation: Conversation,
) -> None:
    first = receive(conversation, "How are my campaigns doing?", 1)
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.sentiment) == ("normal", "neutral")
    assert Message.objects.get(pk=first.pk).metadata["priority"] == "normal"

    receive(conversation, "This is a disaster, you are wasting my money!!", 2)
    conversation.refresh_from_db()
    assert conversation.priority == "urgent" and conversation.sentiment == "negative"
    assert conversation.priority_since is not None

    for n in range(3, 8):  # it settles once the last five are calm
        receive(conversation, "Great, thank you, that is very helpful", n)
    conversation.refresh_from_db()
    assert conversation.priority == "normal" and conversation.sentiment == "positive"
    assert conversation.priority_since is None


def test_the_team_is_told_once_when_nobody_answers(
    people: TenantPeople, conversation: Conversation
) -> None:
    StaffFactory(tenant=people.tenant, username="alex", roles=[SUPPORT_ADMIN])
    receive(conversation, "URGENT: our ads are broken and burning money", 1)
    now = timezone.now()
    assert priority_alerts_send(now=now + timedelta(minutes=5)) == 0
    assert priority_alerts_send(now=now + timedelta(minutes=16)) == 1
    assert priority_alerts_send(now=now + timedelta(minutes=30)) == 0
    told = Notification.objects.filter(tenant=people.tenant)
    assert {n.recipient.username for n in told} == {"owner", "teammate", "alex"}
    assert all("Urgent priority" in n.title and "maya" not in n.title for n in told)
    assert Event.objects.filter(kind=EventKind.PRIORITY_ALERT).count() == 1


def test_a_human_reply_in_time_means_no_alert(
    people: TenantPeople, conversation: Conversation
) -> None:
    receive(conversation, "Can I talk to a real person please?", 1)
    message_store(conversation=conversation, sender_kind="human", body="Hi, Alex here.")
    assert priority_alerts_send(now=timezone.now() + timedelta(minutes=20)) == 0
    assert not Notification.objects.exists()


def test_the_queue_puts_the_most_pressing_first(
    people: TenantPeople, conversation: Conversation
) -> None:
    calm = ConversationFactory(tenant=people.tenant, channel=Channel.CHAT)
    receive(calm, "What is my CTR?", 10)
    high = ConversationFactory(tenant=people.tenant, channel=Channel.CHAT)
    receive(high, "We are wasting money on TikTok", 11)
    receive(conversation, "URGENT: call me now", 12)
    client = APIClient()
    client.force_authenticate(people.teammate)
    body: Any = client.get("/api/v1/admin/conversations/queue").json()
    assert [row["id"] for row in body["conversations"]] == [conversation.pk, high.pk]
    assert client.get("/api/v1/admin/conversations/queue", {"limit": 0}).status_code == 400
