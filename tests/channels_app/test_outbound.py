"""The one outbound path: a message is stored and counted once, and sent once, whoever asks to
deliver it and however often; a dead worker's claim is taken over. Sent through the real twilio
SDK to the local fake of Twilio's Messages API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.services import phone_number_add
from channels_app import transports
from channels_app.claims import claim_renew
from channels_app.models import Conversation, Message
from channels_app.outbound import message_deliver, message_send, message_store
from channels_app.transports import SendResult
from channels_app.whatsapp.transport import WhatsAppTransport
from tests.channels_app.fake_twilio import (
    FakeResponse,
    FakeTwilio,
    twilio_error,
)
from tests.factories import ConversationFactory, MessageFactory, UserFactory

NUMBER = "+14155550123"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    previous = transports.transport_register("whatsapp", WhatsAppTransport())
    try:
        with (
            FakeTwilio() as fake,
            override_settings(
                **fake.settings(),
                TWILIO_RETRY_BACKOFF_SECONDS=0.01,
                TWILIO_TEMPLATE_CONTENT_SID="",
                PUBLIC_BASE_URL="",
                TURN_LEASE_SECONDS=60,
            ),
        ):
            yield fake
    finally:
        transports.transport_register("whatsapp", previous)


@pytest.fixture
def conversation() -> Conversation:
    user = UserFactory()
    phone_number_add(user=user, number=NUMBER, verified=True, primary=True)
    conversation = ConversationFactory(tenant=user.tenant, user=user)
    MessageFactory(conversation=conversation)  # the person wrote: WhatsApp's window is open
    return conversation


def queued(conversation: Conversation, **fields: object) -> Message:
    return message_store(
        conversation=conversation,
        sender_kind=Message.SenderKind.AGENT,
        body="Meta spend is up 12% this week.",
        **fields,
    )


@pytest.mark.django_db
def test_a_stored_message_is_counted_on_its_conversation(conversation: Conversation) -> None:
    before = Conversation.objects.get(pk=conversation.pk).message_count

    reply = queued(conversation)

    conversation.refresh_from_db()
    assert conversation.message_count == before + 1
    assert conversation.last_activity_at == reply.created_at
    assert reply.direction == Message.Direction.OUTBOUND
    assert reply.channel == conversation.channel
    assert reply.delivery_status == Message.DeliveryStatus.QUEUED


@pytest.mark.django_db
def test_a_message_is_sent_once_however_often_it_is_delivered(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    reply = queued(conversation)

    assert message_deliver(message=reply) is True
    assert message_deliver(message=reply) is False

    [sent] = twilio.messages
    assert sent.body == "Meta spend is up 12% this week."
    reply.refresh_from_db()
    assert reply.provider_id == sent.sid


@pytest.mark.django_db
def test_a_send_another_worker_is_making_is_left_to_it(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    reply = queued(conversation, claimed_at=timezone.now() - timedelta(seconds=30))

    assert message_deliver(message=reply) is False

    assert not twilio.requests
    reply.refresh_from_db()
    assert reply.delivery_status == Message.DeliveryStatus.QUEUED


@pytest.mark.django_db
def test_a_dead_workers_send_is_taken_over_after_the_lease(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    reply = queued(conversation, claimed_at=timezone.now() - timedelta(seconds=61))

    assert message_deliver(message=reply) is True

    assert len(twilio.messages) == 1


@pytest.mark.django_db
def test_a_turn_run_again_takes_over_what_its_dead_run_claimed(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    # The dead run claimed the send 10 s before this run claimed the turn: within the lease, but
    # the turns of one conversation never overlap, so nobody else is sending it.
    turn_claimed = timezone.now()
    reply = queued(conversation, claimed_at=turn_claimed - timedelta(seconds=10))

    assert message_deliver(message=reply, stale_before=turn_claimed) is True

    assert len(twilio.messages) == 1


@pytest.mark.django_db
def test_an_error_the_transport_does_not_know_gives_the_claim_back(
    conversation: Conversation,
) -> None:
    reply = queued(conversation)

    def broken(message: Message) -> SendResult:
        raise RuntimeError("the worker's process is going down")

    with pytest.raises(RuntimeError):
        message_deliver(message=reply, send=broken)

    reply.refresh_from_db()
    assert reply.claimed_at is None
    assert reply.delivery_status == Message.DeliveryStatus.QUEUED


@pytest.mark.django_db
def test_a_refused_send_is_recorded_on_the_message(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    twilio.script(twilio_error(400, 21211, "The 'To' number is not a valid phone number."))

    sent = message_send(
        conversation=conversation, sender_kind=Message.SenderKind.HUMAN, body="Hello from Ana."
    )

    assert sent.delivery_status == Message.DeliveryStatus.FAILED
    assert sent.error_code == "21211"
    assert sent.sender_kind == Message.SenderKind.HUMAN


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_send_it_once(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    reply = queued(conversation)
    twilio.script(FakeResponse(status=201, delay=0.3))
    results: list[bool] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            results.append(message_deliver(message=Message.objects.get(pk=reply.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [False, True]
    assert len(twilio.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_slow_send_keeps_its_claim_past_the_lease(
    twilio: FakeTwilio, conversation: Conversation
) -> None:
    # Twilio answers after three leases; a caller that comes meanwhile must not send it again.
    reply = queued(conversation)
    twilio.script(FakeResponse(status=201, delay=3))
    claimed: list[datetime] = []

    def sender() -> None:
        try:
            message_deliver(message=Message.objects.get(pk=reply.pk))
        finally:
            connection.close()

    with override_settings(TURN_LEASE_SECONDS=1):
        sending = threading.Thread(target=sender)
        sending.start()
        try:
            assert wait_until(lambda: twilio.requests, timeout=5)
            claimed.append(Message.objects.get(pk=reply.pk).claimed_at)
            time.sleep(2)  # twice the lease, while Twilio is still answering
            claimed.append(Message.objects.get(pk=reply.pk).claimed_at)
            again = message_deliver(message=Message.objects.get(pk=reply.pk))
        finally:
            sending.join(timeout=30)

    assert again is False
    assert len(twilio.requests) == 1 and len(twilio.messages) == 1
    assert claimed[0] is not None and claimed[1] is not None and claimed[1] > claimed[0]


@pytest.mark.django_db
def test_a_claim_taken_over_is_not_renewed_by_its_old_holder(conversation: Conversation) -> None:
    old = timezone.now() - timedelta(seconds=90)
    reply = queued(conversation, claimed_at=old)
    assert (renewed := claim_renew(message_id=reply.pk, claimed_at=old)) is not None
    assert renewed > old
    Message.objects.filter(pk=reply.pk).update(claimed_at=timezone.now())  # another worker's

    assert claim_renew(message_id=reply.pk, claimed_at=renewed) is None
    assert Message.objects.get(pk=reply.pk).claimed_at != renewed


def wait_until(predicate: Callable[[], object], timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()
