"""Approvals closing the loop on WhatsApp: a held reply approved with an edit reaches the person
through Twilio (a local fake), and a rejected request tells them why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import MARKETING_MANAGER, SUPPORT_ADMIN
from agents.models import Campaign
from channels_app.models import Conversation, Message
from hitl.models import Approval
from hitl.services import approval_request
from tests.channels_app.fake_twilio import FakeTwilio
from tests.factories import StaffFactory
from tests.integration.fixtures import WEBHOOK, inbound, post_signed
from tests.integration.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def sent_to_maya(twilio: FakeTwilio) -> list[str]:
    return [m["Body"] for m in twilio.messages if m.get("To") == "whatsapp:+14155550101"]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_held_reply_approved_with_an_edit_reaches_twilio(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    support = StaffFactory(tenant=maya.tenant, roles=[SUPPORT_ADMIN])
    post_signed(Client(), WEBHOOK, inbound("seo?", sid="SM" + "e" * 32))
    approval = wait_for(lambda: Approval.objects.filter(action_type="held_reply").first())
    assert approval, list(Message.objects.values("sender_kind", "delivery_status"))
    assert wait_for(lambda: len(sent_to_maya(twilio)) == 1)  # the holding message
    held = approval.message
    assert held.delivery_status == "held"

    edited = "Your top keyword moved up 3 places this week; the full report is on its way."
    response = api(support).post(
        f"/api/v1/admin/hitl/{approval.pk}/approve",
        {"notes": "Shorter and friendlier.", "edited_reply": edited},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["execution_status"] == "succeeded"
    assert sent_to_maya(twilio)[-1] == edited
    assert held.body not in sent_to_maya(twilio)
    held.refresh_from_db()
    assert held.body == edited and held.delivery_status in {"queued", "sent"}
    assert held.metadata["edited_by"] == support.pk
    assert Conversation.objects.get(pk=held.conversation_id).status == "active"
    # Approving again sends nothing more.
    again = api(support).post(f"/api/v1/admin/hitl/{approval.pk}/approve", {}, format="json")
    assert again.status_code == 409 and len(sent_to_maya(twilio)) == 2


def test_a_rejected_request_reaches_the_person_with_the_reason(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    manager = StaffFactory(tenant=maya.tenant, roles=[MARKETING_MANAGER])
    post_signed(Client(), WEBHOOK, inbound("hello", sid="SM" + "f" * 32))
    conversation = wait_for(lambda: Conversation.objects.filter(user=maya).first())
    wait_for(lambda: sent_to_maya(twilio))
    campaign = Campaign.objects.filter(tenant=maya.tenant).first()
    before = campaign.daily_budget
    approval = approval_request(
        tenant=maya.tenant,
        action_type="budget_increase",
        title=f"Raise {campaign.name}'s daily budget",
        action_data={"campaign_id": campaign.pk, "new_daily_budget": str(before * 2)},
        estimated_cost=Decimal("6000"),
        requested_by=maya,
        requested_by_agent="paid_ads_optimization",
        conversation=conversation,
    )
    count = len(sent_to_maya(twilio))
    response = api(manager).post(
        f"/api/v1/admin/hitl/{approval.pk}/reject",
        {"reason": "We are holding spend until the new creative is live."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert sent_to_maya(twilio)[count:] == [
        f'Your request "{approval.title}" was not approved: We are holding spend until the '
        "new creative is live."
    ]
    campaign.refresh_from_db()
    assert campaign.daily_budget == before
