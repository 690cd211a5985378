"""Twilio's incoming-message webhook through the test client: signature, parsing, retries,
unmapped numbers, STOP/START/HELP, the daily quota and the switch. Replies this code sends
itself (keywords, quota, unmapped) reach a local fake Twilio; the agents' turn is only checked
to be enqueued once (or not), never run here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from accounts.models import SubscriptionTier, User
from accounts.services import phone_number_add
from agents.models import AgentInstance
from agents.services import agent_instance_update
from channels_app.events import Event, EventKind
from channels_app.models import Conversation, Message, TurnState
from channels_app.tasks import process_turn_task
from channels_app.whatsapp.checks import whatsapp_check
from channels_app.whatsapp.services import (
    START_REPLY,
    STOP_REPLY,
    UNMAPPED_REPLY,
)
from privacy.models import ChannelConsent
from tests.channels_app.fake_twilio import (
    TEST_AUTH_TOKEN,
    TEST_WHATSAPP_NUMBER,
    FakeTwilio,
)
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC = "https://console.example.com"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
MAYA = "+14155550101"
STRANGER = "+14155550999"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

Post = Callable[..., Any]


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)


def inbound(
    body: str, *, sid: str = "SM" + "0" * 32, sender: str = MAYA, **extra: str
) -> dict[str, str]:
    return {
        "From": f"whatsapp:{sender}",
        "To": f"whatsapp:{TEST_WHATSAPP_NUMBER}",
        "Body": body,
        "MessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Maya Pereira",
        **extra,
    }


def sid(n: int) -> str:
    return f"SM{n:032x}"


def _redis() -> Any:
    return cache._cache.get_client()  # type: ignore[attr-defined]


def _cache_keys() -> list[str]:
    return [key.decode() for key in _redis().keys("*")]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    # Rate limits and quota counters live in the cache, which outlives a test. Only this
    # channel's keys go: the same Redis may carry a broker's.
    keys = [key for key in _cache_keys() if "whatsapp:" in key]
    if keys:
        _redis().delete(*keys)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with (
        FakeTwilio() as fake,
        override_settings(
            **fake.settings(),
            PUBLIC_BASE_URL=PUBLIC,
            TWILIO_RETRY_BACKOFF_SECONDS=0.01,
            ENABLE_WHATSAPP=True,
        ),
    ):
        yield fake


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the messages whose turn was enqueued (after commit)."""
    calls: list[int] = []
    monkeypatch.setattr(process_turn_task, "delay", calls.append)
    return calls


@pytest.fixture
def post(twilio: FakeTwilio, enqueued: list[int], django_capture_on_commit_callbacks: Any) -> Post:
    client = Client()

    def post(
        params: dict[str, str],
        *,
        signature: str | None = None,
        url: str = PUBLIC + WEBHOOK,
        **kw: Any,
    ) -> Any:
        signature = sign(url, params) if signature is None else signature
        with django_capture_on_commit_callbacks(execute=True):
            # Form-encoded, as Twilio posts.
            return client.post(
                WEBHOOK,
                urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TWILIO_SIGNATURE=signature,
                **kw,
            )

    return post


@pytest.fixture
def maya(people: TenantPeople) -> User:
    user = UserFactory(tenant=people.tenant, username="maya")
    phone_number_add(user=user, number=MAYA, verified=True, primary=True)
    return user


def sent_to(twilio: FakeTwilio, number: str = MAYA) -> list[str]:
    return [m.body or "" for m in twilio.messages if m.to == f"whatsapp:{number}"]


# Receiving


def test_signed_inbound_is_acknowledged_stored_and_enqueued_once(
    post: Post, maya: User, enqueued: list[int], twilio: FakeTwilio, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="channels_app")
    response = post(inbound("How's my Meta campaign doing?", sid=sid(1)))

    assert response.status_code == 200
    assert response.content == EMPTY_TWIML
    assert response["Content-Type"].startswith("text/xml")
    message = Message.objects.get()
    assert message.provider_id == sid(1)
    assert message.direction == Message.Direction.INBOUND
    assert message.conversation.user == maya
    assert message.conversation.tenant == maya.tenant
    assert message.turn_state == TurnState.PENDING
    assert enqueued == [message.pk]
    assert twilio.messages == []  # the agents answer from the worker, not in the request
    # The profile name is a person's name: kept nowhere.
    assert "Maya Pereira" not in str(message.metadata)
    assert "Maya Pereira" not in str(list(Event.objects.values_list("data", flat=True)))
    assert "Maya Pereira" not in caplog.text


def test_a_message_costs_a_few_round_trips_and_a_retry_one(
    post: Post, maya: User, enqueued: list[int], django_assert_max_num_queries: Any
) -> None:
    """What Twilio waits for: the sender with the retry and opt-out checks in one query, then
    one transaction (conversation, message, tokens, triage read, one conversation update, the
    event). The audit log records what staff change, not each message a person sends."""
    post(inbound("Hello", sid=sid(40)))  # the conversation exists from here on
    with django_assert_max_num_queries(9) as stored:
        response = post(inbound("Is my Meta campaign wasting money?", sid=sid(41)))
    assert response.status_code == 200
    message = Message.objects.get(provider_id=sid(41))
    assert message.metadata["priority"] == "high"
    conversation = message.conversation
    assert conversation.message_count == 2
    assert conversation.priority == "high"
    assert conversation.last_activity_at == message.created_at
    assert Event.objects.filter(message=message, kind=EventKind.MESSAGE_RECEIVED).count() == 1
    assert enqueued == [conversation.messages.order_by("id")[0].pk, message.pk]
    sql = " ".join(query["sql"] for query in stored.captured_queries)
    assert "auditlog_logentry" not in sql
    assert 'DELETE FROM "channels_app_messagetoken"' not in sql

    with django_assert_max_num_queries(1):
        assert post(inbound("Is my Meta campaign wasting money?", sid=sid(41))).status_code == 200
    assert Message.objects.filter(provider_id=sid(41)).count() == 1
    assert len(enqueued) == 2


def test_forged_signature_is_refused_and_nothing_stored(
    post: Post, maya: User, enqueued: list[int]
) -> None:
    params = inbound("hi", sid=sid(2))
    response = post(params, signature=sign(PUBLIC + WEBHOOK, {**params, "Body": "other"}))
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "detail": "Invalid Twilio signature."}
    assert not Message.objects.exists()
    assert enqueued == []


def test_a_multipart_form_is_read_the_same(maya: User, twilio: FakeTwilio) -> None:
    params = inbound("hi", sid=sid(17))
    response = Client().post(
        WEBHOOK, params, HTTP_X_TWILIO_SIGNATURE=sign(PUBLIC + WEBHOOK, params)
    )
    assert response.status_code == 200
    assert Message.objects.filter(provider_id=sid(17)).exists()


def test_missing_signature_is_refused(maya: User, twilio: FakeTwilio) -> None:
    response = Client().post(WEBHOOK, inbound("hi", sid=sid(3)))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Message.objects.exists()


def test_no_auth_token_means_no_request_is_trusted(post: Post, maya: User) -> None:
    params = inbound("hi", sid=sid(4))
    # What anyone could compute when the server has no token to sign with.
    signature = RequestValidator("").compute_signature(PUBLIC + WEBHOOK, params)
    with override_settings(TWILIO_AUTH_TOKEN=""):
        assert post(params, signature=signature).status_code == 403
    assert not Message.objects.exists()


def test_unknown_extra_parameters_are_accepted_and_signed(post: Post, maya: User) -> None:
    params = inbound(
        "hi",
        sid=sid(5),
        AccountSid="AC" + "1" * 32,
        WaId="14155550101",
        SmsStatus="received",
        ButtonPayload="",
        NewThingTwilioAddsNextYear="x",
    )
    assert post(params).status_code == 200
    assert Message.objects.filter(provider_id=sid(5)).exists()
    # They are part of what is signed: changing one breaks the signature.
    tampered = {**params, "MessageSid": sid(6), "NewThingTwilioAddsNextYear": "y"}
    signature = sign(PUBLIC + WEBHOOK, {**params, "MessageSid": sid(6)})
    assert post(tampered, signature=signature).status_code == 403


def test_signature_is_over_the_public_url_whatever_host_reached_us(post: Post, maya: User) -> None:
    # Behind a proxy the request arrives for an inside host; Twilio signed the public URL.
    params = inbound("hi", sid=sid(7))
    assert post(params, HTTP_HOST="localhost:8000").status_code == 200
    inside = inbound("hi", sid=sid(8))
    signature = sign("http://localhost:8000" + WEBHOOK, inside)
    assert post(inside, signature=signature, HTTP_HOST="localhost:8000").status_code == 403


def test_without_a_public_url_the_request_url_is_signed(post: Post, maya: User) -> None:
    params = inbound("hi", sid=sid(9))
    with override_settings(PUBLIC_BASE_URL=""):
        assert post(params, url="http://testserver" + WEBHOOK).status_code == 200
        assert post(params, url=PUBLIC + WEBHOOK).status_code == 403


def test_replayed_fifty_times_stores_one_message_and_enqueues_one_turn(
    post: Post, maya: User, enqueued: list[int]
) -> None:
    params = inbound("Any SEO opportunities?", sid=sid(10))
    answers = {post(params).status_code for _ in range(50)}
    assert answers == {200}
    message = Message.objects.get()
    assert enqueued == [message.pk]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"From": None}, "From"),
        ({"MessageSid": None}, "MessageSid"),
        ({"NumMedia": "two"}, "NumMedia"),
        ({"NumMedia": "-1"}, "NumMedia"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    post: Post, maya: User, change: dict[str, str | None], field: str
) -> None:
    params = inbound("hi", sid=sid(11))
    for name, value in change.items():
        if value is None:
            del params[name]
        else:
            params[name] = value
    response = post(params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert field in response.json()["fields"]
    assert not Message.objects.exists()


def test_media_is_read_up_to_num_media(post: Post, maya: User) -> None:
    params = inbound(
        "",
        sid=sid(12),
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/media/ME2",
        MediaContentType1="application/pdf",
        MediaUrl2="https://api.twilio.com/media/not-counted",
    )
    assert post(params).status_code == 200
    assert Message.objects.get().metadata["media"] == [
        {"url": "https://api.twilio.com/media/ME1", "content_type": "image/jpeg"},
        {"url": "https://api.twilio.com/media/ME2", "content_type": "application/pdf"},
    ]


# Unmapped numbers


def test_an_unmapped_number_gets_one_polite_reply_a_day_and_nothing_is_stored(
    post: Post, twilio: FakeTwilio, enqueued: list[int], caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="channels_app")
    assert post(inbound("hello?", sid=sid(13), sender=STRANGER)).status_code == 200
    assert post(inbound("hello??", sid=sid(14), sender=STRANGER)).status_code == 200

    assert sent_to(twilio, STRANGER) == [UNMAPPED_REPLY]
    assert twilio.messages[0].from_ == f"whatsapp:{TEST_WHATSAPP_NUMBER}"
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()
    assert enqueued == []
    assert "unmapped" in caplog.text
    assert "4155550999" not in caplog.text  # logged by blind index only
    assert not any("4155550999" in key for key in _cache_keys())


def test_a_failed_unmapped_reply_is_tried_again_next_time(post: Post, twilio: FakeTwilio) -> None:
    from tests.channels_app.fake_twilio import twilio_error

    twilio.script(twilio_error(400, 21211, "Invalid 'To' Phone Number"))
    post(inbound("hello?", sid=sid(15), sender=STRANGER))
    assert sent_to(twilio, STRANGER) == []
    post(inbound("hello??", sid=sid(16), sender=STRANGER))
    assert sent_to(twilio, STRANGER) == [UNMAPPED_REPLY]


# STOP, START, HELP


def test_stop_opts_out_confirms_and_then_nothing_is_answered(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int]
) -> None:
    post(inbound("STOP", sid=sid(20)))

    consent = ChannelConsent.objects.get(user=maya, channel="whatsapp")
    assert consent.opted_out is True
    # The confirmation goes out although the person has just opted out.
    assert sent_to(twilio) == [STOP_REPLY]
    stop = Message.objects.get(provider_id=sid(20))
    assert stop.turn_state == TurnState.SKIPPED
    confirmation = stop.replies.get()
    assert confirmation.sender_kind == Message.SenderKind.SYSTEM
    assert confirmation.provider_id == twilio.messages[0].sid
    assert enqueued == []
    assert Event.objects.filter(kind=EventKind.WHATSAPP_KEYWORD, message=stop).get().data == {
        "keyword": "stop",
        "consent_changed": True,
    }

    post(inbound("How's my Meta campaign doing?", sid=sid(21)))
    later = Message.objects.get(provider_id=sid(21))  # nothing a person sends is lost
    assert later.turn_state == TurnState.SKIPPED
    assert not later.replies.exists()
    assert len(twilio.messages) == 1
    assert enqueued == []


def test_a_retried_stop_is_confirmed_once(post: Post, maya: User, twilio: FakeTwilio) -> None:
    for _ in range(3):
        post(inbound("stop", sid=sid(22)))
    assert sent_to(twilio) == [STOP_REPLY]
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


@pytest.mark.parametrize(
    "word", ["stop", "  Stop  ", "STOPALL", "unsubscribe", "Cancel", "END", "quit"]
)
def test_every_stop_word_opts_out(post: Post, maya: User, twilio: FakeTwilio, word: str) -> None:
    post(inbound(word, sid=sid(23)))
    assert ChannelConsent.is_opted_out(user_id=maya.pk, channel="whatsapp")
    assert sent_to(twilio) == [STOP_REPLY]


@pytest.mark.parametrize("word", ["START", " start ", "yes", "UNSTOP"])
def test_start_opts_back_in_and_the_agents_answer_again(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int], word: str
) -> None:
    post(inbound("STOP", sid=sid(24)))
    post(inbound(word, sid=sid(25)))

    consent = ChannelConsent.objects.get(user=maya, channel="whatsapp")
    assert consent.opted_out is False
    assert sent_to(twilio) == [STOP_REPLY, START_REPLY]
    assert enqueued == []
    post(inbound("How's my Meta campaign doing?", sid=sid(26)))
    assert enqueued == [Message.objects.get(provider_id=sid(26)).pk]


def test_yes_from_someone_opted_in_is_a_question_for_the_agents(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int]
) -> None:
    post(inbound("Yes", sid=sid(27)))
    assert enqueued == [Message.objects.get(provider_id=sid(27)).pk]
    assert twilio.messages == []
    assert not ChannelConsent.objects.exists()


def test_help_names_the_agents_and_changes_nothing(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int]
) -> None:
    agent_instance_update(
        instance=AgentInstance.objects.get(
            tenant=maya.tenant, agent__agent_type="paid_ads_optimization"
        ),
        enabled=True,
    )
    post(inbound("help", sid=sid(28)))

    [text] = sent_to(twilio)
    assert "Paid Ads Marketing Agent" in text
    assert "SEO" not in text  # not enabled for this workspace
    assert "STOP" in text
    assert not ChannelConsent.objects.exists()
    assert Message.objects.get(provider_id=sid(28)).turn_state == TurnState.SKIPPED
    assert enqueued == []


# Quota


def _received_today(user: User, count: int) -> None:
    conversation = ConversationFactory(tenant=user.tenant, user=user)
    MessageFactory.create_batch(count, conversation=conversation, created_at=timezone.now())


def test_over_the_daily_quota_messages_are_kept_and_the_person_told_once(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int]
) -> None:
    maya.tenant.tier = SubscriptionTier.FREE  # 100 a day
    maya.tenant.save()
    _received_today(maya, 99)

    post(inbound("the hundredth", sid=sid(30)))
    hundredth = Message.objects.get(provider_id=sid(30))
    assert enqueued == [hundredth.pk]
    assert twilio.messages == []

    post(inbound("one too many", sid=sid(31)))
    over = Message.objects.get(provider_id=sid(31))
    assert over.turn_state == TurnState.SKIPPED
    assert sent_to(twilio) == [
        "Your workspace has used today's 100 WhatsApp messages; the agents will answer again "
        "tomorrow (UTC). Your message was saved."
    ]
    assert over.replies.get().metadata == {"system": "quota"}
    assert Event.objects.filter(kind=EventKind.WHATSAPP_QUOTA).get().data == {
        "limit": 100,
        "count": 101,
    }

    post(inbound("and another", sid=sid(32)))
    assert Message.objects.get(provider_id=sid(32)).turn_state == TurnState.SKIPPED
    assert len(twilio.messages) == 1
    assert enqueued == [hundredth.pk]


def test_the_quota_holds_when_the_cache_is_down(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int], monkeypatch: Any
) -> None:
    maya.tenant.tier = SubscriptionTier.FREE
    maya.tenant.save()
    _received_today(maya, 100)

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("redis is down")

    for name in ("incr", "add", "decr"):
        monkeypatch.setattr(cache, name, down)
    assert post(inbound("one too many", sid=sid(33))).status_code == 200
    assert Message.objects.get(provider_id=sid(33)).turn_state == TurnState.SKIPPED
    post(inbound("and another", sid=sid(34)))
    assert len(sent_to(twilio)) == 1  # told once, found in the database
    assert enqueued == []


def test_stop_works_over_the_quota(post: Post, maya: User, twilio: FakeTwilio) -> None:
    maya.tenant.tier = SubscriptionTier.FREE
    maya.tenant.save()
    _received_today(maya, 100)
    post(inbound("STOP", sid=sid(35)))
    assert ChannelConsent.is_opted_out(user_id=maya.pk, channel="whatsapp")
    assert sent_to(twilio) == [STOP_REPLY]


# The switch


def test_switched_off_the_webhook_answers_503_and_stores_nothing(
    post: Post, maya: User, twilio: FakeTwilio, enqueued: list[int]
) -> None:
    with override_settings(ENABLE_WHATSAPP=False):
        response = post(inbound("hi", sid=sid(40)))
        unmapped = post(inbound("hi", sid=sid(41), sender=STRANGER))
    assert response.status_code == 503
    assert response.json()["error"] == "disabled"
    assert unmapped.status_code == 503
    assert not Message.objects.exists()
    assert twilio.messages == []
    assert enqueued == []


def test_the_check_names_the_missing_twilio_settings() -> None:
    with override_settings(
        ENABLE_WHATSAPP=True,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="",
        TWILIO_WHATSAPP_NUMBER="",
        PUBLIC_BASE_URL="",
    ):
        found = {warning.id: warning.msg for warning in whatsapp_check()}
    assert set(found) == {"channels_app.whatsapp.W001", "channels_app.whatsapp.W002"}
    assert (
        "TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER are not set"
        in found["channels_app.whatsapp.W001"]
    )
    assert "TWILIO_ACCOUNT_SID" not in found["channels_app.whatsapp.W001"]


def test_the_check_is_quiet_when_configured_or_switched_off(twilio: FakeTwilio) -> None:
    assert whatsapp_check() == []
    with override_settings(ENABLE_WHATSAPP=False, TWILIO_AUTH_TOKEN="", PUBLIC_BASE_URL=""):
        assert whatsapp_check() == []
