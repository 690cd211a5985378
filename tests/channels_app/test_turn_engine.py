from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from agents.backends.base import AgentResult, ProposedAction
from agents.router import RouteDecision
from agents.services import agent_settings_for
from agents.types import AgentMode
from channels_app.inbound import InboundMessage, message_receive
from channels_app.models import Conversation, Message, TurnState
from channels_app.policy import hold_reasons, holding_message
from channels_app.turns import turn_claim_next, turns_sweep
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

DECISION = RouteDecision("paid_ads_optimization", 0.9, needs_human=False, reason="classifier")
RAISE = ProposedAction("budget_increase", "Raise", "Raise it", estimated_cost=Decimal("900"))
PUBLISH = ProposedAction("content_publish", "Publish", "Publish it", estimated_reach=50_000)
# 15 (cost over $500) + 20 (reach over 100k) = 35: medium risk.
PAUSE = ProposedAction(
    "campaign_pause", "Pause", "Pause it", estimated_cost=Decimal("600"), estimated_reach=200_000
)


def reasons(result: AgentResult, *, mode: str = AgentMode.SEMI_AUTO, **kw: object) -> list[str]:
    conversation = ConversationFactory(**kw)
    agent_settings = agent_settings_for(conversation.tenant)
    agent_settings.mode = mode
    return hold_reasons(
        result=result, decision=DECISION, agent_settings=agent_settings, conversation=conversation
    )


def test_a_confident_plain_answer_goes_out() -> None:
    assert reasons(AgentResult("ROAS is 3.1x", 0.9)) == []


def test_under_the_threshold_is_held() -> None:
    assert reasons(AgentResult("maybe", 0.59)) == ["low_confidence"]
    assert reasons(AgentResult("sure", 0.6)) == []  # the threshold itself passes


@pytest.mark.parametrize("mode", [AgentMode.SEMI_AUTO, AgentMode.AUTO])
def test_an_action_holds_itself_not_the_answer(mode: str) -> None:
    # Whatever its risk: the reply goes out and says what awaits whom; hitl holds the action.
    for action in (PUBLISH, PAUSE, RAISE):
        assert reasons(AgentResult("x", 0.9, actions=(action,)), mode=mode) == []
    # Manual mode reviews every reply, with or without actions.
    assert reasons(AgentResult("x", 0.9, actions=(RAISE,)), mode=AgentMode.MANUAL) == [
        "manual_mode"
    ]


def test_manual_mode_holds_everything() -> None:
    assert reasons(AgentResult("x", 0.99), mode=AgentMode.MANUAL) == ["manual_mode"]


def test_takeover_holds_and_says_nothing_to_the_person() -> None:
    found = reasons(AgentResult("x", 0.99), status=Conversation.Status.HUMAN)
    assert found == ["human_takeover"]
    assert holding_message(found) is None


def test_human_request_and_agent_error() -> None:
    conversation = ConversationFactory()
    agent_settings = agent_settings_for(conversation.tenant)
    human = RouteDecision("seo_optimization", 0.4, needs_human=True, reason="classifier")
    found = hold_reasons(
        result=AgentResult.failure("timeout", "sorry"),
        decision=human,
        agent_settings=agent_settings,
        conversation=conversation,
    )
    assert found == ["agent_error", "human_requested"]
    assert "someone from the team" in holding_message(found)


def test_receive_is_idempotent_and_enqueues_once(
    django_capture_on_commit_callbacks: object,
) -> None:
    user = UserFactory()
    inbound = InboundMessage(
        tenant=user.tenant, user=user, channel="whatsapp", provider_id="SMx", text="hi"
    )
    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[operator]
        first = message_receive(inbound)
        second = message_receive(inbound)
    assert first.created and not second.created and first.message == second.message
    # One turn enqueued (and one live-view publication), for the first delivery only.
    enqueued = [c for c in callbacks if "message_receive" in c.__qualname__]
    assert len(enqueued) == 1 and len(callbacks) == 2
    assert Conversation.objects.get().message_count == 1


def test_one_worker_at_a_time_per_conversation() -> None:
    conversation = ConversationFactory()
    first = MessageFactory(conversation=conversation, turn_state=TurnState.PENDING)
    second = MessageFactory(conversation=conversation, turn_state=TurnState.PENDING)
    assert turn_claim_next(conversation.pk) == first
    assert turn_claim_next(conversation.pk) is None  # first is being answered; second waits
    Message.objects.filter(pk=first.pk).update(turn_state=TurnState.DONE)
    assert turn_claim_next(conversation.pk) == second


@override_settings(TURN_LEASE_SECONDS=60)
def test_a_dead_workers_claim_is_taken_over_after_the_lease() -> None:
    conversation = ConversationFactory()
    message = MessageFactory(
        conversation=conversation,
        turn_state=TurnState.CLAIMED,
        claimed_at=timezone.now() - timedelta(seconds=61),
    )
    assert turn_claim_next(conversation.pk) == message


@override_settings(TURN_SWEEP_AFTER_SECONDS=120, TURN_LEASE_SECONDS=300)
def test_sweep_picks_the_earliest_stuck_message_per_conversation() -> None:
    old = timezone.now() - timedelta(minutes=10)
    stuck = ConversationFactory()
    a = MessageFactory(conversation=stuck, turn_state=TurnState.PENDING, created_at=old)
    MessageFactory(
        conversation=stuck, turn_state=TurnState.PENDING, created_at=old + timedelta(seconds=1)
    )
    dead = MessageFactory(
        turn_state=TurnState.CLAIMED, created_at=old, claimed_at=timezone.now() - timedelta(hours=1)
    )
    MessageFactory(turn_state=TurnState.PENDING)  # fresh: its turn is surely queued
    MessageFactory(turn_state=TurnState.CLAIMED, created_at=old, claimed_at=timezone.now())
    MessageFactory(turn_state=TurnState.DONE, created_at=old)
    assert sorted(turns_sweep()) == sorted([a.pk, dead.pk])
    # The frequent check only takes over dead workers' claims.
    assert turns_sweep(dead_claims_only=True) == [dead.pk]
