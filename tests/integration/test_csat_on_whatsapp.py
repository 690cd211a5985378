"""Satisfaction on WhatsApp, through the whole path (signed webhook, a real worker, the fake
Twilio): asked once when the person signs off or goes quiet, the answer recorded, never sent to
the agent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from agents.models import AgentRun
from channels_app.csat import QUESTION, csat_ask_idle
from channels_app.events import Event, EventKind
from channels_app.models import Conversation, Message
from tests.channels_app.fake_twilio import FakeTwilio
from tests.integration.fixtures import WEBHOOK, inbound, post_signed
from tests.integration.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def bodies(twilio: FakeTwilio) -> list[str]:
    return [m.get("Body", "") for m in twilio.messages if m.get("To") == "whatsapp:+14155550101"]


def say(text: str, n: int) -> None:
    post_signed(Client(), WEBHOOK, inbound(text, sid=f"SM{n:032d}"))


def test_a_sign_off_asks_once_and_the_rating_is_recorded_not_answered_by_the_agent(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    say("How much did we spend yesterday?", 1)
    wait_for(lambda: bodies(twilio))
    assert QUESTION not in bodies(twilio)

    say("Great, thanks! That's all for today", 2)
    sent = wait_for(lambda: [b for b in bodies(twilio) if b == QUESTION])
    assert len(sent) == 1
    conversation = Conversation.objects.get(user=maya)
    assert conversation.csat_asked_at is not None and conversation.csat_score is None
    runs = AgentRun.objects.count()

    say("4", 3)
    wait_for(lambda: [b for b in bodies(twilio) if "4/5" in b])
    conversation.refresh_from_db()
    assert conversation.csat_score == 4 and conversation.csat_rated_at is not None
    assert AgentRun.objects.count() == runs  # the agent never saw it
    rating = Message.objects.get(provider_id=f"SM{3:032d}")  # bodies are encrypted
    assert not rating.replies.filter(sender_kind=Message.SenderKind.AGENT).exists()
    assert Event.objects.filter(kind=EventKind.CSAT_RECORDED, data__score=4).count() == 1

    # Once: another sign-off asks nothing more, and a later "5" is a message like any other.
    say("thanks again, bye", 4)
    wait_for(lambda: Message.objects.filter(reply_to__provider_id=f"SM{4:032d}").exists())
    say("5", 5)
    wait_for(lambda: AgentRun.objects.count() > runs + 1)
    conversation.refresh_from_db()
    assert conversation.csat_score == 4
    assert bodies(twilio).count(QUESTION) == 1


def test_an_idle_conversation_is_asked_once_inside_the_window(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    say("What is my ROAS this month?", 6)
    wait_for(lambda: bodies(twilio))
    wait_for(
        lambda: Message.objects.filter(
            sender_kind=Message.SenderKind.AGENT, provider_id__isnull=False
        ).exists()
    )
    conversation = Conversation.objects.get(user=maya)
    now = timezone.now()
    assert csat_ask_idle(now=now) == 0  # not idle yet
    assert csat_ask_idle(now=now + timedelta(minutes=31)) == 1
    assert csat_ask_idle(now=now + timedelta(minutes=45)) == 0  # once
    assert bodies(twilio).count(QUESTION) == 1
    conversation.refresh_from_db()
    assert conversation.csat_asked_at is not None


def test_past_the_24_hour_window_nobody_is_asked(live: object, maya: User) -> None:
    say("What is my ROAS this month?", 7)
    wait_for(
        lambda: Message.objects.filter(
            sender_kind=Message.SenderKind.AGENT, provider_id__isnull=False
        ).exists()
    )
    assert csat_ask_idle(now=timezone.now() + timedelta(hours=25)) == 0
