"""Actions the policy lets through run after the reply that proposed them is out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.roles import SUPER_ADMIN
from agents.models import AgentSettings, Campaign, ContentItem
from channels_app.models import Message, TurnState
from channels_app.turns import turn_answer
from hitl.explain import approval_explain
from hitl.models import HELD_REPLY, Approval
from hitl.services import approval_approve, approval_request
from tests.agents.factories import ContentItemFactory
from tests.channels_app.chat.helpers import RECOMMENDATION_QUESTION, demo_tenant
from tests.factories import ConversationFactory, MessageFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_an_auto_approved_action_runs_after_its_reply_and_once() -> None:
    conversation = ConversationFactory(channel="chat")
    tenant = conversation.tenant
    item = ContentItemFactory(tenant=tenant, status="scheduled")
    question = MessageFactory(
        conversation=conversation, channel="chat", body="What should we publish?"
    )
    reply = Message.objects.create(
        conversation=conversation,
        channel="chat",
        direction="outbound",
        sender_kind="agent",
        body=f"'{item.title}' is ready: publish it now?",
        reply_to=question,
        delivery_status="queued",
    )
    approval = approval_request(
        tenant=tenant,
        action_type="content_publish",
        title=f"Publish '{item.title}' now",
        action_data={"content_id": item.pk},
        estimated_reach=5_000,
        conversation=conversation,
        message=reply,
        requested_by=conversation.user,
        execute=False,
    )
    assert (approval.status, approval.execution_status) == ("auto_approved", "pending")
    assert ContentItem.objects.get(pk=item.pk).status == "scheduled"

    turn_answer(message=question)
    approval.refresh_from_db()
    assert approval.execution_status == "succeeded"
    assert ContentItem.objects.get(pk=item.pk).status == "published"
    outbound = list(
        Message.objects.filter(conversation=conversation, direction="outbound")
        .order_by("id")
        .values_list("sender_kind", "body")
    )
    assert outbound == [
        ("agent", reply.body),
        ("system", f'Done: "{approval.title}" was approved and carried out.'),
    ]
    assert Message.objects.get(pk=question.pk).turn_state == TurnState.DONE
    turn_answer(message=question)  # a re-run after a crash does nothing twice
    assert Message.objects.filter(conversation=conversation, sender_kind="system").count() == 1


@pytest.mark.parametrize("mode", ["manual", "semi_auto", "auto"])
@pytest.mark.parametrize("status", ["active", "waiting"])
def test_no_suggestion_runs_before_a_person_decides_it(
    mode: str, status: str, django_capture_on_commit_callbacks: Any
) -> None:
    """The agent's own proposals, even a low-risk pause the tenant's mode would let through,
    wait for a person in every mode; deciding one is what carries it out."""
    tenant = demo_tenant()
    AgentSettings.objects.filter(tenant=tenant).update(mode=mode)
    approver = StaffFactory(tenant=tenant, username="boss", roles=[SUPER_ADMIN])
    conversation = ConversationFactory(tenant=tenant, channel="chat", status=status)
    question = MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION)
    with django_capture_on_commit_callbacks(execute=True):
        turn_answer(message=question)
    approvals = list(
        Approval.objects.filter(conversation=conversation).exclude(action_type=HELD_REPLY)
    )
    assert {a.action_type for a in approvals} == {"budget_increase", "campaign_pause"}
    assert all(not a.action_data["requested"] for a in approvals)
    assert {(a.status, a.execution_status) for a in approvals} == {("pending", "none")}
    pause = next(a for a in approvals if a.action_type == "campaign_pause")
    assert pause.risk_level == "low"
    campaign = Campaign.objects.get(pk=pause.action_data["campaign_id"])
    assert campaign.status == "active"

    with django_capture_on_commit_callbacks(execute=True):
        approval_approve(approval_id=pause.pk, user=approver)
    campaign.refresh_from_db()
    assert campaign.status == "paused"


def test_while_a_human_has_the_conversation_the_bot_drafts_nothing() -> None:
    tenant = demo_tenant()
    conversation = ConversationFactory(tenant=tenant, channel="chat", status="human")
    question = MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION)
    turn_answer(message=question)
    assert not Approval.objects.filter(conversation=conversation).exists()
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()
    assert Message.objects.get(pk=question.pk).turn_state == TurnState.SKIPPED


def test_the_same_open_proposal_is_filed_once_and_a_repeat_attaches_to_it() -> None:
    tenant = demo_tenant()
    StaffFactory(tenant=tenant, username="boss", roles=[SUPER_ADMIN])
    replies = []
    for _ in range(3):
        conversation = ConversationFactory(tenant=tenant, channel="chat")
        question = MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION)
        turn_answer(message=question)
        replies.append(Message.objects.get(reply_to=question, sender_kind="agent"))
    approvals = Approval.objects.filter(tenant=tenant)
    assert sorted(approvals.values_list("action_type", flat=True)) == [
        "budget_increase",
        "campaign_pause",
    ]
    for approval in approvals:
        events = list(approval.history.values_list("event", flat=True))
        assert events.count("repeated") == 2 and events.count("notified") <= 1
        # Every reply that proposed it says it waits, naming who decides.
        assert all(approval.title in reply.body for reply in replies)
    # Once decided, the same proposal is a new one.
    approval = approvals.get(action_type="campaign_pause")
    Approval.objects.filter(pk=approval.pk).update(status="rejected")
    conversation = ConversationFactory(tenant=tenant, channel="chat")
    turn_answer(message=MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION))
    assert approvals.filter(action_type="campaign_pause").count() == 2


def test_do_it_on_a_pending_suggestion_makes_it_the_persons_request() -> None:
    tenant = demo_tenant()
    StaffFactory(tenant=tenant, username="boss", roles=[SUPER_ADMIN])
    conversation = ConversationFactory(tenant=tenant, channel="chat")
    turn_answer(message=MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION))
    raise_ = Approval.objects.get(action_type="budget_increase")
    assert raise_.action_data["requested"] is False
    # "Do it" after two suggestions asks which; "the first one" takes the raise.
    do_it = MessageFactory(conversation=conversation, body="do it")
    turn_answer(message=do_it)
    which = Message.objects.get(reply_to=do_it, sender_kind="agent").body
    assert which.startswith("Which one should I go ahead with? 1. Raise")
    follow_up = MessageFactory(conversation=conversation, body="the first one")
    turn_answer(message=follow_up)
    raise_.refresh_from_db()
    assert raise_.action_data["requested"] is True and raise_.status == "pending"
    assert Approval.objects.filter(action_type="budget_increase").count() == 1
    reply = Message.objects.get(reply_to=follow_up, sender_kind="agent")
    assert f"⚠️ {raise_.title} needs approval" in reply.body


def test_the_explainer_says_whether_the_person_asked_and_what_the_agent_understood() -> None:
    tenant = demo_tenant()
    boss = StaffFactory(tenant=tenant, username="boss", roles=[SUPER_ADMIN])
    conversation = ConversationFactory(tenant=tenant, channel="chat")
    turn_answer(message=MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION))
    suggestion = Approval.objects.get(action_type="budget_increase")
    why = approval_explain(approval=suggestion, viewer=boss)["why"]
    assert why["requested"] is False and why["understood"]["intent"] == "question"
    asked = MessageFactory(conversation=conversation, body="Set Search - Brand to $150 a day")
    turn_answer(message=asked)
    command = Approval.objects.get(message__reply_to=asked)
    why = approval_explain(approval=command, viewer=boss)["why"]
    assert why["requested"] is True
    assert why["understood"] == {"intent": "command", "verb": "set", "scope": None, "period": None}
    assert "requested" not in approval_explain(approval=command, viewer=boss)["data"]
    client = Client()
    client.force_login(boss)
    page = client.get(f"/admin/hitl/approval/{suggestion.pk}/change/").content.decode()
    assert "the agent's own suggestion" in page and "Understood as" in page
    page = client.get(f"/admin/hitl/approval/{command.pk}/change/").content.decode()
    assert "the person asked for exactly this" in page and "command (set)" in page
