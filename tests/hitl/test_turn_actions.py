"""Actions the policy lets through run after the reply that proposed them is out."""

from __future__ import annotations

import pytest

from agents.models import Campaign, ContentItem
from channels_app.models import Message, TurnState
from channels_app.turns import turn_answer
from hitl.models import Approval
from hitl.services import approval_request
from tests.agents.factories import ContentItemFactory
from tests.channels_app.chat.helpers import RECOMMENDATION_QUESTION, demo_tenant
from tests.factories import ConversationFactory, MessageFactory

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


@pytest.mark.parametrize(
    ("status", "pause_status", "campaign_status"),
    [
        # The budget increase holds the reply; the low-risk pause beside it goes ahead.
        ("active", "auto_approved", "paused"),
        # A human has taken over: the agent's answer waits, and so does every action in it.
        ("human", "pending", "active"),
    ],
)
def test_doubt_about_the_answer_stops_its_actions_from_running_alone(
    status: str, pause_status: str, campaign_status: str
) -> None:
    tenant = demo_tenant()
    conversation = ConversationFactory(tenant=tenant, channel="chat", status=status)
    question = MessageFactory(conversation=conversation, body=RECOMMENDATION_QUESTION)
    turn_answer(message=question)
    approvals = {a.action_type: a for a in Approval.objects.filter(conversation=conversation)}
    assert approvals["budget_increase"].status == "pending"
    pause = approvals["campaign_pause"]
    assert pause.risk_level == "low" and pause.status == pause_status
    assert Campaign.objects.get(pk=pause.action_data["campaign_id"]).status == campaign_status
