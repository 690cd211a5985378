"""The console's WhatsApp API: sending as a person of the console, and a user's conversations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import MEMBER, READ_ONLY_ADMIN
from accounts.services import phone_number_add
from channels_app import transports
from channels_app.models import Channel, Conversation, Message
from channels_app.whatsapp.transport import WhatsAppTransport
from privacy.models import ChannelConsent
from tests.channels_app.fake_twilio import TEST_WHATSAPP_NUMBER, FakeTwilio, twilio_error
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, MessageFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/channels/whatsapp"
MAYA = "+14155550101"
ANA = "+442079460958"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    # A transport of its own, whatever the app registered, pointed at this test's fake.
    previous = transports.transport_register(Channel.WHATSAPP, WhatsAppTransport())
    try:
        with (
            FakeTwilio() as fake,
            override_settings(
                **fake.settings(),
                PUBLIC_BASE_URL="https://console.example.com",
                TWILIO_RETRY_BACKOFF_SECONDS=0.01,
                TWILIO_TEMPLATE_CONTENT_SID="",
                ENABLE_WHATSAPP=True,
            ),
        ):
            yield fake
    finally:
        transports.transport_register(Channel.WHATSAPP, previous)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def maya(people: TenantPeople) -> User:
    user = UserFactory(tenant=people.tenant, username="maya")
    phone_number_add(user=user, number=MAYA, verified=True, primary=True)
    return user


@pytest.fixture
def ana(people: TenantPeople) -> User:
    user = UserFactory(tenant=people.other_tenant, username="ana")
    phone_number_add(user=user, number=ANA, verified=True, primary=True)
    return user


def wrote_recently(user: User) -> Conversation:
    """The user wrote an hour ago: WhatsApp's 24-hour window is open."""
    conversation = ConversationFactory(tenant=user.tenant, user=user)
    MessageFactory(conversation=conversation, created_at=timezone.now() - timedelta(hours=1))
    return conversation


def send(user: User, to: Any, message: str = "Your budget change is live.") -> Any:
    return client_for(user).post(f"{BASE}/send", {"to": str(to), "message": message}, format="json")


# Sending


def test_owner_sends_to_a_user_by_id(people: TenantPeople, maya: User, twilio: FakeTwilio) -> None:
    conversation = wrote_recently(maya)
    response = send(people.owner, maya.pk)

    assert response.status_code == 201, response.json()
    body = response.json()
    [sent] = twilio.messages
    assert sent.to == f"whatsapp:{MAYA}"
    assert sent.from_ == f"whatsapp:{TEST_WHATSAPP_NUMBER}"
    assert sent.body == "Your budget change is live."
    assert body["provider_id"] == sent.sid
    assert body["status"] == "queued"
    message = Message.objects.get(pk=body["id"])
    assert message.conversation == conversation
    assert body["conversation_id"] == conversation.pk
    assert message.sender_kind == Message.SenderKind.HUMAN
    assert message.direction == Message.Direction.OUTBOUND
    # Labelled as the person who wrote it, as a takeover reply is.
    assert message.metadata == {
        "sent_by": people.owner.pk,
        "operator_id": people.owner.pk,
        "operator_name": people.owner.username,
    }


def test_support_sends_by_number(people: TenantPeople, maya: User, twilio: FakeTwilio) -> None:
    wrote_recently(maya)
    response = send(people.teammate, "+1 (415) 555-0101")
    assert response.status_code == 201, response.json()
    assert [m.to for m in twilio.messages] == [f"whatsapp:{MAYA}"]


def test_read_only_admin_may_not_send(people: TenantPeople, maya: User, twilio: FakeTwilio) -> None:
    wrote_recently(maya)
    reader = StaffFactory(tenant=people.tenant, roles=[READ_ONLY_ADMIN])
    response = send(reader, maya.pk)
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert twilio.messages == []
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_another_tenants_user_is_not_found(
    people: TenantPeople, maya: User, ana: User, twilio: FakeTwilio
) -> None:
    wrote_recently(maya)
    wrote_recently(ana)
    for to in (ana.pk, ANA, 999_999_999, "+14155550177"):
        response = send(people.owner, to)
        assert response.status_code == 404, to
        assert response.json() == {
            "error": "not_found",
            "detail": "No such user in your workspace.",
        }
    # The outsider (globex's owner) cannot reach acme's user either.
    assert send(people.outsider, maya.pk).status_code == 404
    assert send(people.outsider, MAYA).status_code == 404
    assert twilio.messages == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"to": "1", "message": ""}, "message"),
        ({"to": "1", "message": "   "}, "message"),
        ({"to": "1", "message": "x" * 1601}, "message"),
        ({"message": "hi"}, "to"),
    ],
)
def test_bad_send_input_is_a_400(
    people: TenantPeople, twilio: FakeTwilio, payload: dict[str, str], field: str
) -> None:
    response = client_for(people.owner).post(f"{BASE}/send", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert twilio.messages == []


def test_outside_the_window_the_reason_is_returned_and_recorded(
    people: TenantPeople, maya: User, twilio: FakeTwilio
) -> None:
    conversation = ConversationFactory(tenant=maya.tenant, user=maya)
    MessageFactory(conversation=conversation, created_at=timezone.now() - timedelta(hours=25))

    response = send(people.owner, maya.pk)

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "outside_window"
    assert "template" in body["detail"]
    failed = Message.objects.get(pk=body["message_id"])
    assert failed.delivery_status == Message.DeliveryStatus.FAILED
    assert failed.error_code == "outside_window"
    assert twilio.requests == []


def test_an_opted_out_user_is_not_sent_to(
    people: TenantPeople, maya: User, twilio: FakeTwilio
) -> None:
    wrote_recently(maya)
    ChannelConsent.objects.create(user=maya, channel="whatsapp", opted_out=True)
    response = send(people.owner, maya.pk)
    assert response.status_code == 409
    assert response.json()["error"] == "opted_out"
    assert twilio.requests == []


def test_twilio_refusing_is_a_502_and_recorded(
    people: TenantPeople, maya: User, twilio: FakeTwilio
) -> None:
    wrote_recently(maya)
    twilio.script(twilio_error(400, 21211, "Invalid 'To' Phone Number"))
    response = send(people.owner, maya.pk)
    assert response.status_code == 502
    assert response.json()["error"] == "21211"
    failed = Message.objects.get(pk=response.json()["message_id"])
    assert (failed.delivery_status, failed.error_code) == ("failed", "21211")


def test_sending_needs_a_login(maya: User, twilio: FakeTwilio) -> None:
    response = APIClient().post(f"{BASE}/send", {"to": str(maya.pk), "message": "hi"})
    assert response.status_code == 401


def test_switched_off_sending_answers_503(
    people: TenantPeople, maya: User, twilio: FakeTwilio
) -> None:
    wrote_recently(maya)
    with override_settings(ENABLE_WHATSAPP=False):
        response = send(people.owner, maya.pk)
    assert response.status_code == 503
    assert response.json()["error"] == "disabled"
    assert twilio.messages == []


# Listing


PII_BODY = "Call me on +1 415 555 0199 or write to maya.p@example.com about the budget."


def conversations_of(user: User, count: int) -> list[Conversation]:
    made = []
    for n in range(count):
        conversation = ConversationFactory(
            tenant=user.tenant,
            user=user,
            last_activity_at=timezone.now() - timedelta(days=n),
        )
        MessageFactory(conversation=conversation, body=PII_BODY)
        MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            sender_kind=Message.SenderKind.AGENT,
            body="Noted.",
            delivery_status=Message.DeliveryStatus.DELIVERED,
            provider_id=f"SM{user.pk:016x}{n:016x}",
        )
        made.append(conversation)
    return made


def listing(viewer: User, user: User, **query: Any) -> Any:
    return client_for(viewer).get(f"{BASE}/conversations/{user.pk}", query)


def test_conversations_are_paginated_newest_first(people: TenantPeople, maya: User) -> None:
    made = conversations_of(maya, 3)
    ConversationFactory(tenant=maya.tenant, user=maya, channel=Channel.EMAIL)  # not WhatsApp

    first = listing(people.owner, maya, page_size=2)
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 3
    assert [c["id"] for c in body["results"]] == [made[0].pk, made[1].pk]
    assert body["next"] and body["previous"] is None
    second = listing(people.owner, maya, page_size=2, page=2).json()
    assert [c["id"] for c in second["results"]] == [made[2].pk]
    messages = body["results"][0]["messages"]
    assert [m["direction"] for m in messages] == ["inbound", "outbound"]
    assert messages[1]["delivery_status"] == "delivered"


PII_MASKED = "Call me on +1-***-***-0199 or write to m***@example.com about the budget."


def test_the_owner_sees_the_numbers_in_full_and_the_bodies_masked(
    people: TenantPeople, maya: User
) -> None:
    conversations_of(maya, 1)
    body = listing(people.owner, maya).json()
    assert body["user"]["phone_numbers"] == [MAYA]
    # Conversation text is masked for every role until revealed, with a reason, in the console.
    assert body["results"][0]["messages"][0]["body"] == PII_MASKED


def test_support_sees_them_masked(people: TenantPeople, maya: User) -> None:
    conversations_of(maya, 1)
    body = listing(people.teammate, maya).json()
    assert body["user"]["phone_numbers"] == ["+1-***-***-0101"]
    assert body["results"][0]["messages"][0]["body"] == PII_MASKED


def test_listing_needs_the_view_permission(people: TenantPeople, maya: User) -> None:
    conversations_of(maya, 1)
    member = StaffFactory(tenant=people.tenant, roles=[MEMBER])
    assert listing(member, maya).status_code == 403
    reader = StaffFactory(tenant=people.tenant, roles=[READ_ONLY_ADMIN])
    assert listing(reader, maya).status_code == 200


def test_another_tenants_user_is_not_listed(people: TenantPeople, maya: User, ana: User) -> None:
    conversations_of(ana, 1)
    assert listing(people.owner, ana).status_code == 404
    assert listing(people.outsider, maya).status_code == 404
    assert listing(people.outsider, ana).status_code == 200


def test_listing_costs_the_same_queries_for_more_conversations(
    people: TenantPeople, maya: User
) -> None:
    other = UserFactory(tenant=people.tenant)
    phone_number_add(user=other, number="+14155550102", verified=True)
    conversations_of(maya, 1)
    conversations_of(other, 5)
    client = client_for(people.teammate)

    def queries(user: User) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{BASE}/conversations/{user.pk}").status_code == 200
        return len(captured)

    queries(maya)  # the first request also loads the viewer's permissions
    assert queries(maya) == queries(other)
