"""Twilio's status callback: signed, forward only, failures recorded, unknown sids acknowledged."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client, override_settings
from twilio.request_validator import RequestValidator

from channels_app.events import Event, EventKind
from channels_app.models import Message
from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

PUBLIC = "https://console.example.com"
STATUS = "/api/v1/channels/whatsapp/status"
SID = "SM" + "5" * 32


@pytest.fixture(autouse=True)
def twilio_settings() -> Any:
    with override_settings(
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC, ENABLE_WHATSAPP=True
    ):
        yield


@pytest.fixture
def outbound() -> Message:
    return MessageFactory(
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        provider_id=SID,
        delivery_status=Message.DeliveryStatus.QUEUED,
    )


def callback(status: str, *, sid: str = SID, signature: str | None = None, **extra: str) -> Any:
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "ChannelToAddress": "+14155550101",
        **extra,
    }
    if signature is None:
        signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC + STATUS, params)
    return Client().post(
        STATUS,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def status_of(message: Message) -> str:
    message.refresh_from_db()
    return message.delivery_status


def test_statuses_move_forward_queued_sent_delivered_read(outbound: Message) -> None:
    seen = []
    for status in ("queued", "sending", "sent", "delivered", "read"):
        assert callback(status).status_code == 204
        seen.append(status_of(outbound))
    assert seen == ["queued", "queued", "sent", "delivered", "read"]
    updates = Event.objects.filter(kind=EventKind.DELIVERY_UPDATED, message=outbound)
    assert sorted(e.data["status"] for e in updates) == ["delivered", "read", "sent"]


def test_out_of_order_callbacks_never_move_it_back(outbound: Message) -> None:
    for status in ("delivered", "sent", "queued"):
        assert callback(status).status_code == 204
    assert status_of(outbound) == "delivered"
    assert Event.objects.filter(kind=EventKind.DELIVERY_UPDATED).count() == 1
    callback("read")
    callback("delivered")
    assert status_of(outbound) == "read"


def test_failure_is_recorded_with_twilio_error_code(outbound: Message) -> None:
    callback("sent")
    response = callback(
        "failed",
        ErrorCode="63016",
        ErrorMessage="Failed to send freeform message to +14155550101: outside the window",
    )
    assert response.status_code == 204
    outbound.refresh_from_db()
    assert outbound.delivery_status == "failed"
    assert outbound.error_code == "63016"
    assert "outside the window" in outbound.error_message
    assert "+14155550101" not in outbound.error_message  # masked: stored in clear
    event = Event.objects.filter(kind=EventKind.DELIVERY_UPDATED, message=outbound).latest("id")
    assert event.data == {"status": "failed", "provider_status": "failed", "error_code": "63016"}


def test_failed_is_final(outbound: Message) -> None:
    callback("undelivered", ErrorCode="30008")
    assert status_of(outbound) == "failed"
    callback("delivered")
    callback("read")
    outbound.refresh_from_db()
    assert outbound.delivery_status == "failed"
    assert outbound.error_code == "30008"


def test_a_late_failure_does_not_undo_a_delivery(outbound: Message) -> None:
    callback("delivered")
    callback("undelivered", ErrorCode="30003")
    outbound.refresh_from_db()
    assert outbound.delivery_status == "delivered"
    assert outbound.error_code == ""


def test_unknown_sid_is_acknowledged_and_changes_nothing(outbound: Message) -> None:
    assert callback("delivered", sid="SM" + "f" * 32).status_code == 204
    assert status_of(outbound) == "queued"
    assert not Event.objects.exists()


def test_inbound_messages_are_not_touched() -> None:
    inbound = MessageFactory(provider_id=SID)  # a provider id of a received message
    callback("failed", ErrorCode="1")
    assert status_of(inbound) == "received"


def test_forged_or_missing_signature_is_refused(outbound: Message) -> None:
    assert callback("read", signature="forged").status_code == 403
    response = Client().post(STATUS, {"MessageSid": SID, "MessageStatus": "read"})
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "detail": "Invalid Twilio signature."}
    assert status_of(outbound) == "queued"


def test_missing_status_is_a_400(outbound: Message) -> None:
    params = {"MessageSid": SID}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC + STATUS, params)
    response = Client().post(STATUS, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 400
    assert "MessageStatus" in response.json()["fields"]


def test_switched_off_the_callback_answers_503(outbound: Message) -> None:
    with override_settings(ENABLE_WHATSAPP=False):
        response = callback("delivered")
    assert response.status_code == 503
    assert response.json()["error"] == "disabled"
    assert status_of(outbound) == "queued"
