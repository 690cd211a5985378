"""Human takeover over the console API: who may, the states it fits, and what the person sees."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.roles import COMPLIANCE_OFFICER, READ_ONLY_ADMIN
from channels_app.events import Event, EventKind
from channels_app.inbound import InboundMessage, message_receive
from channels_app.models import Channel, Conversation, Message, TurnState
from channels_app.takeover import takeovers_release_idle
from privacy.models import AdminAccessLog
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/admin/conversations"


@pytest.fixture
def conversation(people: TenantPeople) -> Conversation:
    maya = UserFactory(tenant=people.tenant, username="maya")
    return ConversationFactory(tenant=people.tenant, user=maya, channel=Channel.CHAT)


def post(user: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    client = APIClient()
    client.force_authenticate(user)
    return client.post(path, body or {}, format="json")


def test_take_over_reply_and_hand_back(people: TenantPeople, conversation: Conversation) -> None:
    people.teammate.first_name = "Alex"
    people.teammate.save()
    taken = post(people.teammate, f"{BASE}/{conversation.pk}/takeover")
    assert taken.status_code == 200, taken.json()
    assert taken.json()["status"] == "human" and taken.json()["human_operator"] == "teammate"
    assert taken.json()["message"]["text"] == "Alex from the team has joined the conversation."
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.HUMAN
    assert conversation.human_operator == people.teammate and conversation.escalated_at

    # The person writes: stored, no turn, nothing drafted.
    received = message_receive(
        InboundMessage(
            tenant=people.tenant,
            user=conversation.user,
            channel=Channel.CHAT,
            provider_id="chat-1",
            text="Is anyone there?",
            conversation=conversation,
        )
    )
    assert received.message.turn_state == TurnState.SKIPPED

    replied = post(people.teammate, f"{BASE}/{conversation.pk}/messages", {"message": "Yes, hi!"})
    assert replied.status_code == 200
    human = Message.objects.get(pk=replied.json()["message"]["id"])
    assert human.sender_kind == Message.SenderKind.HUMAN and human.body == "Yes, hi!"
    assert human.metadata["operator_name"] == "Alex" and human.agent_type == ""

    back = post(people.teammate, f"{BASE}/{conversation.pk}/handback")
    assert back.status_code == 200 and back.json()["status"] == "active"
    assert back.json()["message"]["text"].startswith("You're back with")
    kinds = list(Event.objects.filter(conversation=conversation).values_list("kind", flat=True))
    for kind in (EventKind.HUMAN_TAKEOVER, EventKind.HUMAN_REPLY, EventKind.HUMAN_HANDBACK):
        assert kind in kinds
    actions = list(AdminAccessLog.objects.values_list("action", flat=True).order_by("timestamp"))
    assert actions == ["takeover", "human_reply", "handback"]


def test_each_step_out_of_order_is_a_409(people: TenantPeople, conversation: Conversation) -> None:
    path = f"{BASE}/{conversation.pk}"
    assert post(people.owner, f"{path}/messages", {"message": "hi"}).status_code == 409
    assert post(people.owner, f"{path}/handback").status_code == 409
    assert post(people.owner, f"{path}/takeover").status_code == 200
    again = post(people.teammate, f"{path}/takeover")
    assert again.status_code == 409 and "already has this conversation" in again.json()["detail"]
    assert again.json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "message"), ({"message": ""}, "message"), ({"message": "x" * 1601}, "message")],
)
def test_a_bad_reply_is_a_400_naming_the_field(
    people: TenantPeople, conversation: Conversation, body: dict[str, str], field: str
) -> None:
    post(people.owner, f"{BASE}/{conversation.pk}/takeover")
    response = post(people.owner, f"{BASE}/{conversation.pk}/messages", body)
    assert response.status_code == 400 and field in response.json()["fields"]
    assert not Message.objects.filter(sender_kind=Message.SenderKind.HUMAN).exists()


@pytest.mark.parametrize("role", [READ_ONLY_ADMIN, COMPLIANCE_OFFICER])
def test_watching_roles_may_not_take_over(
    people: TenantPeople, conversation: Conversation, role: str
) -> None:
    watcher = StaffFactory(tenant=people.tenant, roles=[role])
    assert post(watcher, f"{BASE}/{conversation.pk}/takeover").status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE


def test_another_tenants_conversation_is_not_found(
    people: TenantPeople, conversation: Conversation
) -> None:
    assert post(people.outsider, f"{BASE}/{conversation.pk}/takeover").status_code == 404


def test_an_idle_takeover_goes_back_to_the_bot(
    people: TenantPeople, conversation: Conversation, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    post(people.owner, f"{BASE}/{conversation.pk}/takeover")
    settings.TAKEOVER_IDLE_MINUTES = 30
    assert takeovers_release_idle(now=timezone.now() + timedelta(minutes=10)) == 0
    assert takeovers_release_idle(now=timezone.now() + timedelta(minutes=31)) == 1
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE
    event = Event.objects.get(kind=EventKind.HUMAN_HANDBACK)
    assert event.data["idle"] is True
    settings.TAKEOVER_IDLE_MINUTES = 0
    post(people.owner, f"{BASE}/{conversation.pk}/takeover")
    assert takeovers_release_idle(now=timezone.now() + timedelta(days=3)) == 0
