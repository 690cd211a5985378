"""WhatsAppTransport through the real twilio SDK, against a local server that answers like
Twilio's Messages API (tests/channels_app/fake_twilio.py)."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from accounts.services import phone_number_add
from channels_app import transports
from channels_app.models import Conversation, Message
from channels_app.outbound import message_deliver
from channels_app.transports import TransportError
from channels_app.whatsapp import transport as transport_module
from channels_app.whatsapp.transport import WhatsAppTransport
from privacy.models import ChannelConsent
from tests.channels_app.fake_twilio import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeResponse,
    FakeTwilio,
    message_resource,
    twilio_error,
)
from tests.factories import ConversationFactory, MessageFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

NUMBER = "+14155550123"
BUSINESS = "+14155238886"
REPLY = "Your CTR is up 12% this week."
TEMPLATE_SID = "HX" + "ab" * 16


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with (
        FakeTwilio() as fake,
        override_settings(
            TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
            TWILIO_WHATSAPP_NUMBER=BUSINESS,
            TWILIO_API_BASE_URL=fake.url,
            TWILIO_RETRY_BACKOFF_SECONDS=0.01,
            TWILIO_TIMEOUT_SECONDS=5.0,
            TWILIO_TEMPLATE_CONTENT_SID="",
            PUBLIC_BASE_URL="",
        ),
    ):
        yield fake


@dataclass
class Chat:
    user: User
    conversation: Conversation
    inbound: Message
    reply: Message


def _chat(*, last_inbound_ago: timedelta = timedelta(hours=1), number: str | None = NUMBER) -> Chat:
    tenant = TenantFactory()
    user = UserFactory(tenant=tenant)
    if number:
        phone_number_add(user=user, number=number, verified=True, primary=True)
    conversation = ConversationFactory(tenant=tenant, user=user)
    inbound = MessageFactory(
        conversation=conversation, created_at=timezone.now() - last_inbound_ago
    )
    reply = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        body=REPLY,
        reply_to=inbound,
        delivery_status=Message.DeliveryStatus.QUEUED,
    )
    return Chat(user=user, conversation=conversation, inbound=inbound, reply=reply)


@pytest.fixture
def chat() -> Chat:
    return _chat()


def _with_metadata(message: Message, **metadata: object) -> Message:
    message.metadata = {**message.metadata, **metadata}
    message.save(update_fields=["metadata"])
    return message


def test_sends_the_reply_to_the_users_whatsapp_number(fake: FakeTwilio, chat: Chat) -> None:
    result = WhatsAppTransport().send(chat.reply)

    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"
    assert request.basic_auth == (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    assert request.get("To") == f"whatsapp:{NUMBER}"
    assert request.get("From") == f"whatsapp:{BUSINESS}"
    assert request.get("Body") == REPLY
    assert request.get("StatusCallback") is None
    assert request.getlist("MediaUrl") == []
    [sent] = fake.messages
    assert result.provider_id == sent.sid
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.status == Message.DeliveryStatus.QUEUED


def test_prefers_the_primary_verified_number() -> None:
    tenant = TenantFactory()
    user = UserFactory(tenant=tenant)
    phone_number_add(user=user, number="+14155550111", verified=True)
    phone_number_add(user=user, number="+14155550222", verified=False)
    phone_number_add(user=user, number=NUMBER, verified=True, primary=True)
    conversation = ConversationFactory(tenant=tenant, user=user)
    MessageFactory(conversation=conversation)
    reply = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
    )

    with FakeTwilio() as fake, override_settings(**fake.settings()):
        WhatsAppTransport().send(reply)

    assert fake.messages[0].to == f"whatsapp:{NUMBER}"


def test_asks_for_status_callbacks_at_the_public_url(fake: FakeTwilio, chat: Chat) -> None:
    with override_settings(PUBLIC_BASE_URL="https://engarde.example.com"):
        WhatsAppTransport().send(chat.reply)

    assert fake.messages[0].status_callback == (
        "https://engarde.example.com/api/v1/channels/whatsapp/status"
    )


def test_retries_5xx_until_twilio_accepts(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(twilio_error(500), twilio_error(500))

    result = WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 3
    [sent] = fake.messages
    assert result.provider_id == sent.sid
    assert all(r.get("Body") == REPLY for r in fake.requests)


def test_gives_up_after_four_attempts_of_5xx(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(*[twilio_error(503, message="Service Unavailable")] * 5)

    with pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 4
    assert caught.value.retryable is True
    assert caught.value.code == "http_503"
    assert "Service Unavailable" in str(caught.value)
    assert fake.messages == []


def test_backs_off_exponentially_between_retries(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(*[twilio_error(502)] * 3)

    with override_settings(TWILIO_RETRY_BACKOFF_SECONDS=0.1):
        WhatsAppTransport().send(chat.reply)

    times = [r.received_at for r in fake.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4
    assert gaps[2] < 2


def test_429_waits_for_retry_after(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(twilio_error(429, 20429, "Too Many Requests", headers={"Retry-After": "1"}))

    started = time.monotonic()
    result = WhatsAppTransport().send(chat.reply)
    elapsed = time.monotonic() - started

    assert len(fake.requests) == 2
    assert result.provider_id == fake.messages[0].sid
    # The backoff is 0.01 s here: only Retry-After explains a wait of a second.
    assert 0.95 <= fake.requests[1].received_at - fake.requests[0].received_at < 3
    assert elapsed < 5


def test_429_retry_after_is_capped(
    fake: FakeTwilio, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport_module, "RETRY_AFTER_MAX_SECONDS", 0.2)
    fake.script(twilio_error(429, 20429, "Too Many Requests", headers={"Retry-After": "3600"}))

    started = time.monotonic()
    WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 2
    assert 0.2 <= time.monotonic() - started < 3


def test_4xx_is_not_retried(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(
        twilio_error(400, 21211, f"The 'To' number {NUMBER} is not a valid phone number."),
        FakeResponse(status=201),
    )

    with pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 1
    assert caught.value.code == "21211"
    assert caught.value.retryable is False
    assert "is not a valid phone number" in str(caught.value)
    # The error is stored on the message in clear: the number Twilio quotes is masked.
    assert NUMBER not in str(caught.value)
    assert "0123" in str(caught.value)


def test_wrong_credentials_fail_without_retry(fake: FakeTwilio, chat: Chat) -> None:
    with (
        override_settings(TWILIO_AUTH_TOKEN="not-the-token"),
        pytest.raises(TransportError) as caught,
    ):
        WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 1
    assert caught.value.code == "20003"
    assert caught.value.retryable is False


def test_dropped_connections_are_retried(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(FakeResponse(drop=True), FakeResponse(drop=True))

    result = WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 3
    assert result.provider_id == fake.messages[0].sid


def test_a_timeout_is_retried(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(FakeResponse(delay=2.0))

    with override_settings(TWILIO_TIMEOUT_SECONDS=0.3):
        result = WhatsAppTransport().send(chat.reply)

    assert len(fake.requests) == 2
    assert result.provider_id.startswith("SM")


def test_an_unreachable_twilio_is_a_retryable_network_error(
    fake: FakeTwilio, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with (
        override_settings(TWILIO_API_BASE_URL=f"http://127.0.0.1:{closed_port}"),
        caplog.at_level(logging.INFO, logger=transport_module.__name__),
        pytest.raises(TransportError) as caught,
    ):
        WhatsAppTransport().send(chat.reply)

    assert caught.value.code == "network"
    assert caught.value.retryable is True
    assert "attempts=4" in caplog.text
    assert caplog.text.count("whatsapp send retry") == 3


def test_sends_media_urls(fake: FakeTwilio, chat: Chat) -> None:
    urls = ["https://cdn.example.com/a.png", "https://cdn.example.com/b.pdf"]
    _with_metadata(chat.reply, media_urls=urls)

    WhatsAppTransport().send(chat.reply)

    [sent] = fake.messages
    assert sent.media_urls == urls
    assert sent.resource["num_media"] == "2"
    assert sent.body == REPLY


def test_more_than_ten_media_fail_before_any_request(fake: FakeTwilio, chat: Chat) -> None:
    _with_metadata(chat.reply, media_urls=[f"https://cdn.example.com/{n}.png" for n in range(11)])

    with pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert caught.value.code == "too_many_media"
    assert caught.value.retryable is False
    assert fake.requests == []


def test_quick_replies_are_appended_as_a_numbered_list(fake: FakeTwilio, chat: Chat) -> None:
    _with_metadata(chat.reply, quick_replies=["Pause the campaign", "Raise the budget", "Later"])

    WhatsAppTransport().send(chat.reply)

    assert fake.messages[0].body == (
        f"{REPLY}\n\nReply 1, 2 or 3:\n1. Pause the campaign\n2. Raise the budget\n3. Later"
    )


def test_opted_out_person_gets_nothing(fake: FakeTwilio, chat: Chat) -> None:
    ChannelConsent.objects.create(user=chat.user, channel="whatsapp", opted_out=True)

    with pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert caught.value.code == "opted_out"
    assert caught.value.retryable is False
    assert fake.requests == []


def test_outside_the_window_sends_the_approved_template(fake: FakeTwilio) -> None:
    chat = _chat(last_inbound_ago=timedelta(hours=25))
    _with_metadata(chat.reply, media_urls=["https://cdn.example.com/a.png"])

    with override_settings(TWILIO_TEMPLATE_CONTENT_SID=TEMPLATE_SID):
        WhatsAppTransport().send(chat.reply)

    [request] = fake.requests
    assert request.get("ContentSid") == TEMPLATE_SID
    assert json.loads(request.get("ContentVariables") or "") == {"1": REPLY}
    assert "Body" not in request.form
    assert "MediaUrl" not in request.form
    assert request.get("To") == f"whatsapp:{NUMBER}"


def test_template_variable_is_one_bounded_line(fake: FakeTwilio) -> None:
    chat = _chat(last_inbound_ago=timedelta(days=3))
    chat.reply.body = "First line\n\nsecond\tline " + "x" * 2000
    chat.reply.save(update_fields=["body"])

    with override_settings(TWILIO_TEMPLATE_CONTENT_SID=TEMPLATE_SID):
        WhatsAppTransport().send(chat.reply)

    variable = fake.messages[0].content_variables["1"]  # type: ignore[index]
    assert variable.startswith("First line second line xxx")
    assert "\n" not in variable and "\t" not in variable
    assert len(variable) <= transport_module.TEMPLATE_VARIABLE_MAX


def test_outside_the_window_without_a_template_fails_clearly(fake: FakeTwilio) -> None:
    chat = _chat(last_inbound_ago=timedelta(hours=25))

    with pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert caught.value.code == "outside_window"
    assert caught.value.retryable is False
    assert "24 hours" in str(caught.value)
    assert fake.requests == []


def test_the_window_counts_the_users_other_whatsapp_conversations(fake: FakeTwilio) -> None:
    chat = _chat(last_inbound_ago=timedelta(days=2))
    earlier = ConversationFactory(tenant=chat.conversation.tenant, user=chat.user)
    MessageFactory(conversation=earlier, created_at=timezone.now() - timedelta(minutes=5))

    WhatsAppTransport().send(chat.reply)

    assert fake.messages[0].body == REPLY


def test_a_person_without_a_verified_number_fails(fake: FakeTwilio) -> None:
    chat = _chat(number=None)
    phone_number_add(user=chat.user, number=NUMBER, verified=False, primary=True)

    with pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert caught.value.code == "no_number"
    assert caught.value.retryable is False
    assert fake.requests == []


def test_missing_twilio_settings_fail_before_any_request(fake: FakeTwilio, chat: Chat) -> None:
    with override_settings(TWILIO_AUTH_TOKEN=""), pytest.raises(TransportError) as caught:
        WhatsAppTransport().send(chat.reply)

    assert caught.value.code == "not_configured"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("twilio_status", "expected"),
    [
        ("accepted", Message.DeliveryStatus.QUEUED),
        ("sending", Message.DeliveryStatus.QUEUED),
        ("sent", Message.DeliveryStatus.SENT),
        ("delivered", Message.DeliveryStatus.DELIVERED),
        ("read", Message.DeliveryStatus.READ),
        ("undelivered", Message.DeliveryStatus.FAILED),
        ("failed", Message.DeliveryStatus.FAILED),
    ],
)
def test_maps_twilios_status(
    fake: FakeTwilio, chat: Chat, twilio_status: str, expected: str
) -> None:
    resource = message_resource(
        account_sid=TEST_ACCOUNT_SID, to=f"whatsapp:{NUMBER}", from_=f"whatsapp:{BUSINESS}"
    )
    fake.script(FakeResponse(status=201, body={**resource, "status": twilio_status}))

    result = WhatsAppTransport().send(chat.reply)

    assert result == transports.SendResult(provider_id=resource["sid"], status=expected)


def test_logs_carry_no_token_body_or_number(
    fake: FakeTwilio, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script(twilio_error(500), twilio_error(400, 21211, f"The 'To' number {NUMBER} is bad."))

    with caplog.at_level(logging.DEBUG), pytest.raises(TransportError):
        WhatsAppTransport().send(chat.reply)

    assert "attempts=2" in caplog.text
    for secret in (TEST_AUTH_TOKEN, REPLY, NUMBER, NUMBER.removeprefix("+")):
        assert secret not in caplog.text


@pytest.fixture
def registered() -> Iterator[None]:
    # The registry is process-wide: put back whatever was registered before.
    previous = transports.transport_register("whatsapp", WhatsAppTransport())
    try:
        yield
    finally:
        transports.transport_register("whatsapp", previous)


@pytest.mark.usefixtures("registered")
def test_turn_engine_records_the_sid_and_status(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(twilio_error(500))

    message_deliver(message=chat.reply)

    chat.reply.refresh_from_db()
    assert chat.reply.provider_id == fake.messages[0].sid
    assert chat.reply.delivery_status == Message.DeliveryStatus.QUEUED
    assert len(fake.requests) == 2


@pytest.mark.usefixtures("registered")
def test_turn_engine_records_a_final_failure_on_the_message(fake: FakeTwilio, chat: Chat) -> None:
    fake.script(twilio_error(400, 21211, f"The 'To' number {NUMBER} is not a valid phone number."))

    message_deliver(message=chat.reply)

    chat.reply.refresh_from_db()
    assert chat.reply.delivery_status == Message.DeliveryStatus.FAILED
    assert chat.reply.error_code == "21211"
    assert "is not a valid phone number" in chat.reply.error_message
    assert chat.reply.provider_id is None
    assert len(fake.requests) == 1
