"""The agents do what they are asked on WhatsApp, through the whole path: the signed webhook, a
real Celery worker, the router, the built-in agent on the demo data, hitl, and the fake Twilio."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from agents.models import Campaign
from channels_app.csat import QUESTION
from hitl.models import Approval
from tests.channels_app.fake_twilio import FakeTwilio
from tests.integration.fixtures import WEBHOOK, inbound, post_signed
from tests.integration.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def bodies(twilio: FakeTwilio) -> list[str]:
    return [m.get("Body", "") for m in twilio.messages if m.get("To") == "whatsapp:+14155550101"]


def say(text: str, n: int) -> None:
    post_signed(Client(), WEBHOOK, inbound(text, sid=f"SM{n:032d}"))


def test_an_ambiguous_raise_asks_which_campaign_then_files_one_approval_and_says_so(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    meta = list(
        Campaign.objects.filter(tenant=maya.tenant, platform="meta").values_list("name", flat=True)
    )
    say("Increase my Meta campaign budget by $10,000", 1)
    (question,) = wait_for(lambda: bodies(twilio))
    assert question.startswith("Which campaign") and all(name in question for name in meta)
    assert not Approval.objects.exists()

    say("the lookalike one", 2)
    answered = wait_for(lambda: bodies(twilio)[1:])
    lookalike = Campaign.objects.get(tenant=maya.tenant, name="Prospecting - Lookalike 1%")
    approval = Approval.objects.get()
    assert approval.action_type == "budget_increase" and approval.status == "pending"
    assert approval.action_data["requested"] is True
    assert Decimal(approval.action_data["new_daily_budget"]) == lookalike.daily_budget + 10_000
    # Hold the action, not the answer: it went out at once and says what waits for whom.
    (reply,) = answered
    assert "⚠️" in reply and "needs approval" in reply
    assert "a marketing manager, then a marketing director or the CFO" in reply
    lookalike.refresh_from_db()
    assert lookalike.daily_budget == Decimal("400.00")


def test_a_requested_low_risk_pause_runs_and_the_person_hears_it_did(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    say("Please pause the spark ads campaign", 3)
    spark = Campaign.objects.get(tenant=maya.tenant, name="Spark Ads - Creator Reviews")
    sent = wait_for(lambda: [b for b in bodies(twilio) if b.startswith("Done:")])
    assert sent and spark.name in sent[0]
    spark.refresh_from_db()
    assert spark.status == "paused"
    approval = Approval.objects.get()
    assert approval.status == "auto_approved" and approval.execution_status == "succeeded"


def test_a_burst_of_small_talk_never_reaches_the_queue(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    chatter = ["hi", "Tell me a joke", "What's the weather in Paris?", "lol", "thanks!"]
    for n, text in enumerate(chatter, start=10):
        say(text, n)
    # One answer each, and after the sign-off ("thanks!") the rating question, once.
    sent = wait_for(lambda: len(bodies(twilio)) > len(chatter) and bodies(twilio))
    assert len(sent) == len(chatter) + 1 and sent[-1] == QUESTION
    assert sum("outside what I can help with" in body for body in sent) == 3
    assert any(body.startswith("Hi!") for body in sent)
    assert not Approval.objects.exists()
