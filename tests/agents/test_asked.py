"""The agents do what they are asked, on the demo data, through the built-in backend: the
figures for the scope and period asked, a command as exactly its action, drafts when asked to
write, a decline for what is off-topic, and questions back when a name is unknown or ambiguous.
Every expected figure is recomputed here from the rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from accounts.models import Tenant
from agents.backends.base import AgentContext, AgentResult, ContextMessage
from agents.backends.builtin import BuiltinBackend
from agents.backends.builtin.common import money
from agents.models import (
    AgentInstance,
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    WalkerAgent,
)
from agents.services import agent_instance_update
from agents.types import AgentType
from tests.channels_app.chat.helpers import demo_tenant
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

YESTERDAY = dt.date.today() - dt.timedelta(days=1)


@pytest.fixture
def acme() -> Tenant:
    return demo_tenant()


def ask(
    tenant: Tenant,
    text: str,
    agent_type: str = AgentType.PAID_ADS,
    history: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> AgentResult:
    agent = WalkerAgent.objects.get(agent_type=agent_type)
    context = AgentContext(
        tenant=tenant, messages=tuple(ContextMessage(role, said) for role, said in history)
    )
    return BuiltinBackend().run(agent, text, context)


def campaign(tenant: Tenant, name: str) -> Campaign:
    return Campaign.objects.get(tenant=tenant, name=name)


def spend(tenant: Tenant, start: dt.date, end: dt.date, **filters: Any) -> Decimal:
    rows = CampaignDay.objects.filter(campaign__tenant=tenant, date__range=(start, end), **filters)
    return rows.aggregate(total=Sum("spend"))["total"] or Decimal("0")


def test_a_budget_raise_by_an_amount_becomes_exactly_that_action(acme: Tenant) -> None:
    lookalike = campaign(acme, "Prospecting - Lookalike 1%")
    history = [
        ("user", "How is Prospecting - Lookalike 1% doing?"),
        ("agent", "Prospecting - Lookalike 1% (Meta), last 7 days: ..."),
    ]
    result = ask(acme, "Can you increase the budget by $500?", history=history)
    (action,) = result.actions
    assert action.requested and action.action_type == "budget_increase"
    expected = lookalike.daily_budget + 500
    assert action.data["campaign_id"] == lookalike.pk
    assert Decimal(action.data["new_daily_budget"]) == expected
    assert action.estimated_cost == Decimal(500 * 30)
    assert money(expected) in result.text


def test_a_raise_without_a_campaign_asks_which_one_and_acts_on_nothing(acme: Tenant) -> None:
    result = ask(acme, "Can you increase the budget by $500?")
    assert result.actions == ()
    assert result.text.startswith("Which campaign")
    assert "Prospecting - Lookalike 1%" in result.text


def test_an_ambiguous_campaign_gets_the_candidates_and_the_next_message_completes_it(
    acme: Tenant,
) -> None:
    first = "Increase my Meta campaign budget by $10,000"
    asked = ask(acme, first)
    assert asked.actions == ()
    meta = Campaign.objects.filter(tenant=acme, platform="meta").values_list("name", flat=True)
    assert all(name in asked.text for name in meta)
    history = [("user", first), ("agent", asked.text)]
    for answer in ("Prospecting - Lookalike 1%", "the lookalike one"):
        done = ask(acme, answer, history=history)
        (action,) = done.actions
        lookalike = campaign(acme, "Prospecting - Lookalike 1%")
        assert action.data["campaign_id"] == lookalike.pk and action.requested
        assert Decimal(action.data["new_daily_budget"]) == lookalike.daily_budget + 10_000


def test_pause_my_tiktok_campaign_names_the_running_ones(acme: Tenant) -> None:
    asked = ask(acme, "Pause my TikTok campaign")
    assert asked.actions == ()
    assert "Spark Ads - Creator Reviews" in asked.text and "In-Feed - Trail Runners" in asked.text
    assert "TopView - Summer Launch" not in asked.text  # paused already
    history = [("user", "Pause my TikTok campaign"), ("agent", asked.text)]
    listed = sorted(
        ["Spark Ads - Creator Reviews", "In-Feed - Trail Runners"], key=asked.text.index
    )
    for choice, name in (("the first one", listed[0]), ("number 2", listed[1])):
        (action,) = ask(acme, choice, history=history).actions
        assert action.action_type == "campaign_pause" and action.requested
        assert action.data["campaign_id"] == campaign(acme, name).pk


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("pause the search brand campaign", "Search - Brand"),
        ("Please pause spark ads", "Spark Ads - Creator Reviews"),
    ],
)
def test_a_loosely_written_name_is_found(acme: Tenant, text: str, name: str) -> None:
    (action,) = ask(acme, text).actions
    assert action.data["campaign_id"] == campaign(acme, name).pk


def test_an_unknown_name_gets_did_you_mean_and_no_action(acme: Tenant) -> None:
    result = ask(acme, "Pause the Foobar Quux campaign")
    assert result.actions == ()
    assert "couldn't find a campaign" in result.text


def test_set_to_an_amount_a_day_and_by_a_percent(acme: Tenant) -> None:
    brand = campaign(acme, "Search - Brand")
    (action,) = ask(acme, "Set Search - Brand to $600 a day").actions
    assert Decimal(action.data["new_daily_budget"]) == Decimal("600.00")
    (action,) = ask(acme, "Raise Search - Brand by 20%").actions
    assert Decimal(action.data["new_daily_budget"]) == (brand.daily_budget * Decimal("1.2"))
    (action,) = ask(acme, "Cut Search - Brand's budget by $40").actions
    assert action.action_type == "budget_allocation"
    assert Decimal(action.data["new_daily_budget"]) == brand.daily_budget - 40


def test_resume_a_paused_campaign(acme: Tenant) -> None:
    topview = campaign(acme, "TopView - Summer Launch")
    (action,) = ask(acme, "Resume TopView - Summer Launch").actions
    assert action.action_type == "campaign_resume" and action.data["campaign_id"] == topview.pk
    assert ask(acme, "Resume Search - Brand").actions == ()  # running already


def test_spend_yesterday_counts_a_campaign_paused_since(acme: Tenant) -> None:
    Campaign.objects.filter(tenant=acme, name="Spark Ads - Creator Reviews").update(status="paused")
    result = ask(acme, "How much did we spend on TikTok yesterday?")
    total = spend(acme, YESTERDAY, YESTERDAY, campaign__platform="tiktok")
    paused = spend(acme, YESTERDAY, YESTERDAY, campaign__name="Spark Ads - Creator Reviews")
    assert paused > 0
    assert f"spent {money(total)} yesterday" in result.text
    assert "Spark Ads - Creator Reviews" in result.text
    assert result.actions == ()
    assert result.metadata["period"]["start"] == YESTERDAY.isoformat()
    assert result.metadata["scope"]["platform"] == "tiktok"
    assert Decimal(result.metadata["figures"]["value"]) == total


def test_the_current_roas_is_the_figure_over_the_stated_default_period(acme: Tenant) -> None:
    result = ask(acme, "What is my current ROAS?")
    start = YESTERDAY - dt.timedelta(days=6)
    rows = CampaignDay.objects.filter(campaign__tenant=acme, date__range=(start, YESTERDAY))
    sums = rows.aggregate(spend=Sum("spend"), revenue=Sum("revenue"))
    roas = (sums["revenue"] / sums["spend"]).quantize(Decimal("0.01"))
    assert f"ROAS {roas}x" in result.text and "last 7 days" in result.text
    assert result.actions == () and result.confidence >= 0.6


def test_content_is_written_when_asked(acme: Tenant) -> None:
    result = ask(acme, "Write 3 Instagram posts about our winter sale", AgentType.CONTENT)
    assert result.actions == ()
    numbered = [line for line in result.text.splitlines() if line[:2] in {"1.", "2.", "3."}]
    assert len(numbered) == 3 and all("winter sale" in line.lower() for line in numbered)
    assert "4." not in result.text


@pytest.mark.parametrize("agent_type", [t.value for t in AgentType])
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Tell me a joke", "outside what I can help with"),
        ("What's the weather in Paris?", "outside what I can help with"),
        ("who won the game last night?", "outside what I can help with"),
        ("hi", "Hi! I'm the"),
        ("thanks!", "You're welcome!"),
    ],
)
def test_off_topic_gets_a_confident_decline_and_no_action(
    acme: Tenant, agent_type: str, text: str, said: str
) -> None:
    result = ask(acme, text, agent_type)
    assert result.actions == ()
    assert result.confidence >= 0.6
    assert said in result.text and len(result.text) < 200
    assert result.metadata["request"]["intent"] == "out_of_scope"


def test_do_it_takes_up_the_last_suggestion(acme: Tenant) -> None:
    suggested = ask(acme, "What do you recommend for our ad campaigns?")
    raise_ = next(a for a in suggested.actions if a.action_type == "budget_increase")
    assert not raise_.requested
    reply = (
        f"{suggested.text}\n\n💡 Suggestion: {raise_.title}. Nothing changes unless it is approved."
    )
    history = [("user", "What do you recommend for our ad campaigns?"), ("agent", reply)]
    (action,) = ask(acme, "do it", history=history).actions
    assert action.requested and action.data["campaign_id"] == raise_.data["campaign_id"]
    assert Decimal(action.data["new_daily_budget"]) == Decimal(raise_.data["new_daily_budget"])


def test_a_specific_question_carries_no_suggestions_and_advice_at_most_two(acme: Tenant) -> None:
    assert ask(acme, "What's our spend on Meta this month?").actions == ()
    advice = ask(acme, "What do you recommend for our ad campaigns?")
    assert 1 <= len(advice.actions) <= 2
    assert not any(action.requested for action in advice.actions)


def test_export_and_publish_commands(acme: Tenant) -> None:
    (export,) = ask(acme, "Export the VIP customers segment", AgentType.AUDIENCE).actions
    vip = AudienceSegment.objects.get(tenant=acme, name="VIP customers")
    assert export.action_type == "data_export" and export.requested
    assert export.data["segment_id"] == vip.pk
    (publish,) = ask(
        acme, "Publish the draft about ten trails to run before you die", AgentType.CONTENT
    ).actions
    item = ContentItem.objects.get(tenant=acme, title="Ten trails to run before you die")
    assert publish.action_type == "content_publish" and publish.requested
    assert publish.data["content_id"] == item.pk


def test_the_execute_api_answers_the_raise_with_its_action_and_the_request_it_read(
    acme: Tenant,
) -> None:
    ads = AgentInstance.objects.get(tenant=acme, agent__agent_type=AgentType.PAID_ADS)
    agent_instance_update(instance=ads, enabled=True)
    client = APIClient()
    # Running an agent through the API takes a role that acts for the tenant (run_agents).
    client.force_authenticate(
        StaffFactory(tenant=acme, username="manager", roles=["marketing_manager"])
    )
    history = [
        {"role": "user", "text": "How is Prospecting - Lookalike 1% doing this week?"},
        {"role": "agent", "text": "Prospecting - Lookalike 1% (Meta), last 7 days: ..."},
    ]
    response = client.post(
        f"/api/v1/ai-agents/walker/{ads.pk}/execute",
        {"input": "Can you increase the budget by $500?", "context": {"history": history}},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    (action,) = body["actions"]
    lookalike = campaign(acme, "Prospecting - Lookalike 1%")
    assert action["requested"] and action["data"]["campaign_id"] == lookalike.pk
    assert Decimal(action["data"]["new_daily_budget"]) == lookalike.daily_budget + 500
    request = body["metadata"]["request"]
    assert request["intent"] == "command" and request["verb"] == "raise"
    assert request["amount"] == {"value": "500", "mode": "by", "per_day": True}


def test_a_question_this_agents_data_cannot_answer_is_the_low_confidence_case(
    acme: Tenant,
) -> None:
    result = ask(acme, "What's the churn risk of our customers?")
    assert result.confidence < 0.6 and result.actions == ()
    assert "Audience agent" in result.text


def test_a_question_about_a_name_on_two_platforms_asks_which(acme: Tenant) -> None:
    result = ask(acme, "how is the shopping campaign doing")
    assert result.text.startswith("Which campaign do you mean?")
    assert "Shopping - All Products (Google Ads)" in result.text
    assert "Advantage+ Shopping (Meta)" in result.text and result.actions == ()


def test_a_segment_named_loosely_is_the_one_answered(acme: Tenant) -> None:
    result = ask(acme, "how big is our vip segment?", AgentType.AUDIENCE)
    assert "VIP customers" in result.text and "Repeat buyers" not in result.text


def test_an_email_draft_is_headed_plainly(acme: Tenant) -> None:
    result = ask(acme, "Draft an email about our spring sale", AgentType.CONTENT)
    assert result.text.startswith("1 email about spring sale, as drafts:"), result.text
