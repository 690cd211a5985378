from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents import router
from agents.router import AGENTS, EVAL_PATH, TRAIN_PATH, RouteContext, route

PAID = "paid_ads_optimization"
SEO = "seo_optimization"
CONTENT = "content_generation"
AUDIENCE = "audience_intelligence"


@pytest.mark.parametrize(
    ("message", "agent"),
    [
        ("How is my Meta campaign performing this week?", PAID),
        ("cpc on google search doubled since monday, lower the bids?", PAID),
        ("move 200/day from linkedin to tiktok", PAID),
        ("why did our organic traffic drop after the site migration", SEO),
        ("which keywords are we ranking on page 2 for", SEO),
        ("run a technical audit, page speed and broken links", SEO),
        ("write three instagram captions for the spring sale 🌸", CONTENT),
        ("draft a blog article on how to pick running shoes", CONTENT),
        ("translate the newsletter into spanish for our mexico customers", CONTENT),
        ("which customers are most likely to churn next month", AUDIENCE),
        ("give me an rfm breakdown of our buyers", AUDIENCE),
        ("ltv by segment please", AUDIENCE),
    ],
)
def test_typical_message_routes_to_its_agent_with_confidence(message: str, agent: str) -> None:
    decision = route(message)

    assert decision.agent_type == agent
    assert decision.confidence > 0.6
    assert decision.reason == "classifier"
    assert not decision.needs_human


@pytest.mark.parametrize(
    ("message", "current", "agent"),
    [
        ("ask the SEO agent whether the blog is indexed", None, SEO),
        ("switch to the content agent", PAID, CONTENT),
        ("let me talk to the paid ads agent", AUDIENCE, PAID),
        ("@seo how are the rankings", CONTENT, SEO),
        ("audience agent: who are our best customers", SEO, AUDIENCE),
        ("ppc agent, what's the cpa today", CONTENT, PAID),
        ("go back to the copywriter please", AUDIENCE, CONTENT),
        # The message is about ads, but the person asked for the content agent.
        ("ask the content agent to rewrite the ad headline", PAID, CONTENT),
    ],
)
def test_explicit_switch_wins_over_topic_and_current_agent(
    message: str, current: str | None, agent: str
) -> None:
    decision = route(message, RouteContext(current_agent=current))

    assert decision == router.RouteDecision(agent, 1.0, False, "explicit")


def test_moving_money_between_channels_is_not_a_switch() -> None:
    decision = route("switch budget to search campaigns", RouteContext(current_agent=CONTENT))

    assert decision.reason != "explicit"
    assert decision.agent_type == PAID


@pytest.mark.parametrize(
    ("message", "current"),
    [
        ("what about last week?", PAID),
        ("and yesterday?", AUDIENCE),
        ("why?", SEO),
        ("can you break that down", PAID),
        ("ok do it", PAID),
        ("thanks, more detail on the second one", AUDIENCE),
        ("make it shorter", CONTENT),
        ("and on TikTok?", PAID),
    ],
)
def test_follow_up_stays_with_current_agent(message: str, current: str) -> None:
    decision = route(message, RouteContext(current_agent=current))

    assert decision.agent_type == current
    assert decision.reason == "follow_up"
    assert decision.confidence > 0.6


def test_platform_name_follow_up_stays_in_a_content_conversation() -> None:
    # Alone, a platform name reads as paid ads; after a caption it asks for a TikTok version.
    decision = route("and on TikTok?", RouteContext(current_agent=CONTENT))

    assert decision.agent_type == CONTENT
    assert decision.reason == "follow_up"


@pytest.mark.parametrize(
    ("message", "current", "agent"),
    [
        ("now write me three instagram captions for the sale", PAID, CONTENT),
        ("what about the facebook campaigns?", SEO, PAID),
        ("which customers have the highest lifetime value", CONTENT, AUDIENCE),
        ("do we have toxic backlinks", AUDIENCE, SEO),
    ],
)
def test_clear_topic_change_leaves_current_agent(message: str, current: str, agent: str) -> None:
    decision = route(message, RouteContext(current_agent=current))

    assert decision.agent_type == agent
    assert decision.reason == "classifier"


@pytest.mark.parametrize(
    "message",
    [
        "talk to a human",
        "can I speak to a real person",
        "get me someone from support",
        "agent please",
        "representative",
        "i want to speak with an operator",
        "this bot is useless, put me through to somebody",
        "is there a live agent I can chat with",
        "connect me with your customer service team",
    ],
)
def test_human_request_is_flagged_and_keeps_current_agent(message: str) -> None:
    decision = route(message, RouteContext(current_agent=SEO))

    assert decision.needs_human
    assert decision.agent_type == SEO


def test_human_request_without_conversation_still_picks_an_agent() -> None:
    decision = route("I want to talk to a human about my meta ad spend")

    assert decision.needs_human
    assert decision.agent_type == PAID


@pytest.mark.parametrize(
    "message",
    [
        "human resources campaign budget on linkedin",
        "write an email that sounds more human",
        "build a persona for people who buy twice a year",
        "cost per person reached on the awareness campaign",
        "someone told me our rankings dropped",
        "the support team wants last month's ad spend",
        "switch to the content agent please",
        "ads for tour operators in spain",
    ],
)
def test_marketing_talk_about_people_is_not_a_human_request(message: str) -> None:
    assert not route(message).needs_human


@pytest.mark.parametrize("message", ["", "   ", "\n\t "])
def test_empty_message_is_rejected(message: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        route(message)


@pytest.mark.parametrize("message", ["hello", "what's the weather", "tell me a joke", "hi"])
def test_off_topic_message_gets_low_confidence(message: str) -> None:
    decision = route(message)

    assert decision.agent_type in AGENTS
    assert decision.confidence < 0.6
    assert decision.reason == "classifier"


def test_message_with_no_signal_keeps_current_agent() -> None:
    decision = route("hi", RouteContext(current_agent=CONTENT))

    assert decision.agent_type == CONTENT
    assert decision.reason == "default"


def test_recent_messages_stand_in_for_a_missing_current_agent() -> None:
    context = RouteContext(recent_messages=("how much did we spend on meta ads this week?",))

    decision = route("and what about yesterday", context)

    assert decision.agent_type == PAID
    assert decision.reason == "follow_up"


def test_current_agent_that_is_not_a_walker_agent_is_ignored() -> None:
    decision = route("why?", RouteContext(current_agent="personal_agent_core"))

    assert decision.agent_type in AGENTS
    assert decision.reason == "classifier"


def test_very_long_message_is_routed() -> None:
    decision = route("our google ads cpa is too high. " * 5000)

    assert decision.agent_type == PAID


def test_routing_is_deterministic() -> None:
    message = "can you check the roas and then write a caption"
    context = RouteContext(current_agent=SEO)
    fresh = router.IntentClassifier(router.training_examples())

    assert route(message, context) == route(message, context)
    assert fresh.probabilities(message) == router.get_classifier().probabilities(message)


def test_evaluation_set_is_separate_and_covers_each_case() -> None:
    train = {json.loads(line)["text"].lower() for line in TRAIN_PATH.read_text().splitlines()}
    rows = [json.loads(line) for line in EVAL_PATH.read_text().splitlines() if line.strip()]

    assert not [r["text"] for r in rows if r["text"].lower() in train]
    assert len(rows) >= 220
    assert sum(r.get("kind") == "follow_up" and "current_agent" in r for r in rows) >= 30
    assert sum(r.get("kind") == "switch" for r in rows) >= 20
    assert sum(r.get("kind") == "switch" and "current_agent" in r for r in rows) >= 10
    assert sum(bool(r.get("needs_human")) for r in rows) >= 10
    per_agent = [sum(r["label"] == agent for r in rows) for agent in AGENTS]
    assert min(per_agent) >= 0.8 * max(per_agent)


def test_evaluate_router_command_meets_the_bar() -> None:
    out = StringIO()

    call_command("evaluate_router", fail_under=90, stdout=out)

    report = out.getvalue()
    assert "Overall accuracy:" in report
    assert "Human requests: precision" in report
    assert "Confusion matrix" in report
    for agent in AGENTS:
        assert agent in report


def test_evaluate_router_command_fails_under_the_bar() -> None:
    with pytest.raises(CommandError, match=r"under 100\.1%"):
        call_command("evaluate_router", fail_under=100.1, stdout=StringIO())
