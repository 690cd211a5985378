"""The whole path: signed webhook → stored → a real Celery worker on Redis → router → built-in
agent on the tenant's data → policy → Twilio (a local fake) → status callbacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import SubscriptionTier, User
from agents.models import KeywordRanking
from channels_app.models import Message, TurnState
from hitl.models import Approval
from privacy.models import ChannelConsent
from tests.channels_app.fake_twilio import FakeTwilio
from tests.integration.fixtures import (
    OUR_NUMBER,
    STATUS,
    WEBHOOK,
    inbound,
    post_signed,
    sign,
)
from tests.integration.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def plain_question(user: User) -> str:
    """A question answered from the data with no action to approve: it goes straight out."""
    end = KeywordRanking.objects.filter(tenant=user.tenant).latest("date").date
    row = KeywordRanking.objects.filter(tenant=user.tenant, date=end).order_by("-search_volume")[0]
    return f"Where do we rank for {row.keyword}?"


def state() -> list[dict]:
    """What the turn left behind, for assertion messages."""
    messages = Message.objects.values("sender_kind", "delivery_status", "confidence", "error_code")
    approvals = Approval.objects.values("action_type", "hold_reasons")
    return [*messages, *approvals]


def replies(twilio: FakeTwilio, to: str = "+14155550101") -> list:
    return [m for m in twilio.messages if m.get("To") == f"whatsapp:{to}"]


def test_signed_inbound_gets_a_grounded_reply(live: object, maya: User, twilio: FakeTwilio) -> None:
    end = KeywordRanking.objects.filter(tenant=maya.tenant).latest("date").date
    row = KeywordRanking.objects.filter(tenant=maya.tenant, date=end).order_by("-search_volume")[0]
    response = post_signed(
        Client(), WEBHOOK, inbound(f"Where do we rank for {row.keyword}?", sid="SM" + "1" * 32)
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")

    sent = wait_for(lambda: replies(twilio))
    assert len(sent) == 1, twilio.requests
    reply = sent[0]
    assert reply["From"] == f"whatsapp:{OUR_NUMBER}"
    # Grounded: the keyword's position and volume, as the rows say.
    assert f"position {row.position}" in reply["Body"]
    assert f"{row.search_volume:,} searches" in reply["Body"]
    inbound_message = Message.objects.get(provider_id="SM" + "1" * 32)
    assert wait_for(lambda: Message.objects.get(pk=inbound_message.pk).turn_state == TurnState.DONE)
    stored = Message.objects.get(reply_to=inbound_message, sender_kind="agent")
    assert stored.provider_id and stored.provider_id.startswith("SM")
    assert stored.delivery_status == "queued"  # Twilio's answer; the status callback moves it on


def test_forged_signature_is_refused(wired: None, maya: User) -> None:
    params = inbound("hi", sid="SM" + "2" * 32)
    response = Client().post(WEBHOOK, params, HTTP_X_TWILIO_SIGNATURE="forged")
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_replayed_fifty_times_stores_one_and_answers_once(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    params = inbound("Any SEO opportunities this month?", sid="SM" + "3" * 32)
    client = Client()
    for _ in range(50):
        assert post_signed(client, WEBHOOK, params).status_code == 200
    assert Message.objects.filter(provider_id="SM" + "3" * 32).count() == 1
    assert wait_for(lambda: replies(twilio))
    # Give any duplicate turn time to show itself.
    wait_for(lambda: len(replies(twilio)) > 1, timeout=3)
    assert len(replies(twilio)) == 1


def test_twilio_500s_then_delivered(live: object, maya: User, twilio: FakeTwilio) -> None:
    twilio.script(500, 500)
    post_signed(Client(), WEBHOOK, inbound(plain_question(maya), sid="SM" + "4" * 32))
    assert wait_for(lambda: replies(twilio))
    posts = [r for r in twilio.requests if r.method == "POST"]
    assert len(posts) == 3
    reply = wait_for(
        lambda: Message.objects.filter(sender_kind="agent", provider_id__isnull=False).first()
    )
    assert reply, state()
    assert reply.delivery_status in ("queued", "sent")


def test_twilio_400_is_tried_once_and_recorded(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    twilio.script((400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}))
    post_signed(
        Client(), WEBHOOK, inbound("Which segments are at risk of churning?", sid="SM" + "5" * 32)
    )
    failed = wait_for(
        lambda: Message.objects.filter(sender_kind="agent", delivery_status="failed").first()
    )
    assert failed and failed.error_code == "21211"
    assert len([r for r in twilio.requests if r.method == "POST"]) == 1


def test_status_callbacks_out_of_order(live: object, maya: User, twilio: FakeTwilio) -> None:
    post_signed(Client(), WEBHOOK, inbound(plain_question(maya), sid="SM" + "6" * 32))
    reply = wait_for(
        lambda: Message.objects.filter(sender_kind="agent", provider_id__isnull=False).first()
    )
    assert reply, state()
    client = Client()
    for status in ("delivered", "sent", "queued"):
        params = {"MessageSid": reply.provider_id, "MessageStatus": status, "AccountSid": "x"}
        assert post_signed(client, STATUS, params).status_code in (200, 204)
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    params = {"MessageSid": reply.provider_id, "MessageStatus": "read"}
    post_signed(client, STATUS, params)
    reply.refresh_from_db()
    assert reply.delivery_status == "read"


def test_stop_then_silence(live: object, maya: User, twilio: FakeTwilio) -> None:
    client = Client()
    post_signed(client, WEBHOOK, inbound("STOP", sid="SM" + "7" * 32))
    assert ChannelConsent.is_opted_out(user_id=maya.pk, channel="whatsapp")
    assert len(replies(twilio)) == 1  # the confirmation, sent at once
    post_signed(client, WEBHOOK, inbound("How's my Meta campaign performing?", sid="SM" + "8" * 32))
    assert Message.objects.filter(provider_id="SM" + "8" * 32).exists()  # nothing is lost
    wait_for(lambda: len(replies(twilio)) > 1, timeout=4)
    assert len(replies(twilio)) == 1


def test_quota_reached(live: object, maya: User, twilio: FakeTwilio) -> None:
    tenant = maya.tenant
    tenant.tier = SubscriptionTier.FREE
    tenant.save()
    client = Client()
    for n in range(100):
        # Inside the quota: stored, and their turns answered by the worker in the background.
        post_signed(client, WEBHOOK, inbound(f"hello {n}", sid=f"SM{n:032d}"))
    post_signed(client, WEBHOOK, inbound("one too many", sid="SM" + "9" * 32))
    over = Message.objects.get(provider_id="SM" + "9" * 32)
    assert over.turn_state == TurnState.SKIPPED
    quota_replies = wait_for(
        lambda: [m for m in replies(twilio) if "today" in m.get("Body", "")], timeout=10
    )
    assert len(quota_replies) == 1


def test_unmapped_number(live: object, twilio: FakeTwilio) -> None:
    client = Client()
    post_signed(client, WEBHOOK, inbound("hello?", sid="SM" + "a" * 32, sender="+14155550999"))
    post_signed(client, WEBHOOK, inbound("hello??", sid="SM" + "b" * 32, sender="+14155550999"))
    sent = replies(twilio, to="+14155550999")
    assert len(sent) == 1 and "isn't linked" in sent[0]["Body"]


def test_outside_the_24_hour_window(live: object, maya: User, twilio: FakeTwilio) -> None:
    post_signed(
        Client(), WEBHOOK, inbound("How's my Meta campaign performing?", sid="SM" + "c" * 32)
    )
    wait_for(lambda: replies(twilio))
    Message.objects.filter(direction="inbound").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    # An operator's follow-up a day later: outside the window and no template configured.
    from channels_app.outbound import message_deliver

    conversation = Message.objects.filter(direction="inbound").first().conversation
    late = Message.objects.create(
        conversation=conversation, channel="whatsapp", direction="outbound",
        sender_kind="human", body="Following up on yesterday", delivery_status="queued",
    )  # fmt: skip
    before = len(twilio.requests)
    message_deliver(message=late)
    late.refresh_from_db()
    assert late.delivery_status == "failed" and late.error_code == "outside_window"
    assert len(twilio.requests) == before


def test_low_confidence_is_held_with_a_holding_message(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    post_signed(Client(), WEBHOOK, inbound("seo?", sid="SM" + "d" * 32))
    held = wait_for(
        lambda: Message.objects.filter(sender_kind="agent", delivery_status="held").first()
    )
    assert held, list(Message.objects.values("sender_kind", "delivery_status", "confidence"))
    approval = Approval.objects.get(message=held, action_type="held_reply")
    assert approval.status == "pending" and "low_confidence" in approval.hold_reasons
    holding = wait_for(lambda: replies(twilio))
    assert len(holding) == 1 and "double-check" in holding[0]["Body"]
    assert held.body not in holding[0]["Body"]


def test_sign_helper_matches_twilio() -> None:
    # The tests sign with the SDK's own code: a wrong URL must not validate.
    from twilio.request_validator import RequestValidator

    from tests.integration.fixtures import AUTH_TOKEN, PUBLIC

    params = {"a": "1"}
    signature = sign(PUBLIC + WEBHOOK, params)
    assert RequestValidator(AUTH_TOKEN).validate(PUBLIC + WEBHOOK, params, signature)
    assert not RequestValidator(AUTH_TOKEN).validate(
        "https://other.example" + WEBHOOK, params, signature
    )
