"""A tenant with every role and a person whose conversation, held reply and approvals carry one
value of each kind of personal data: what the masking, reveal and access-log tests look for."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import SubscriptionTier, Tenant, User
from accounts.roles import (
    CFO,
    COMPLIANCE_OFFICER,
    DIRECTOR_MARKETING,
    MARKETING_MANAGER,
    MEMBER,
    READ_ONLY_ADMIN,
    SUPER_ADMIN,
    SUPPORT_ADMIN,
)
from accounts.services import phone_number_add
from channels_app.models import Channel, Conversation, Message
from hitl.models import HELD_REPLY, Approval, HoldReason
from hitl.services import approval_request
from tests.factories import ConversationFactory, MessageFactory, StaffFactory, TenantFactory

# One value of each kind, and the piece of it that must never show masked.
PHONE = "+1 415 555 0199"
EMAIL = "maya.chen@gmail.com"
CARD = "4111 1111 1111 1111"
API_KEY = "sk_live_51Hx9vQ2eZvKYlo2C8fT3bNx"
ADDRESS = "1600 Amphitheatre Parkway, Mountain View, CA 94043"
NEEDLES = {
    "phone": "555 0199",
    "email": "maya.chen@",
    "card": "1111 1111 1111",
    "api_key": "51Hx9vQ2eZvK",
    "address": "Mountain View",
}
QUESTION = f"Can a human call me back on {PHONE} or email {EMAIL}? I live at {ADDRESS}."
HELD = f"I have noted your card {CARD} and the key {API_KEY}; we will call {PHONE}."

ROLES = {
    "owner": SUPER_ADMIN,
    "support": SUPPORT_ADMIN,
    "compliance": COMPLIANCE_OFFICER,
    "readonly": READ_ONLY_ADMIN,
    "manager": MARKETING_MANAGER,
    "director": DIRECTOR_MARKETING,
    "cfo": CFO,
}


@dataclass
class Planted:
    tenant: Tenant
    staff: dict[str, User]
    person: User
    conversation: Conversation
    question: Message
    held: Message
    held_approval: Approval
    titled_approval: Approval
    outsider: User
    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, name: str) -> Client:
        if name not in self.clients:
            client = Client()
            client.force_login(self.outsider if name == "outsider" else self.staff[name])
            self.clients[name] = client
        return self.clients[name]


def leaked(text: str) -> list[str]:
    """The kinds of planted data found whole in the text."""
    return [kind for kind, needle in NEEDLES.items() if needle in text]


@pytest.fixture
def planted(db: None, django_capture_on_commit_callbacks: Any) -> Planted:
    tenant = TenantFactory(slug="acme", tier=SubscriptionTier.BUSINESS)
    staff = {
        name: StaffFactory(
            tenant=tenant, username=name, roles=[role], email=f"{name}@acme-staff.test"
        )
        for name, role in ROLES.items()
    }
    person = StaffFactory(tenant=tenant, username="maya", roles=[MEMBER], is_staff=False)
    phone_number_add(user=person, number="+14155550101", verified=True)
    conversation = ConversationFactory(tenant=tenant, user=person, channel=Channel.WHATSAPP)
    question = MessageFactory(conversation=conversation, body=QUESTION)
    held = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        agent_type="paid_ads_optimization",
        body=HELD,
        confidence=0.31,
        delivery_status=Message.DeliveryStatus.HELD,
        reply_to=question,
    )
    # The approvers' emails go out on commit: run them, as a real request would.
    with django_capture_on_commit_callbacks(execute=True):
        held_approval = approval_request(
            tenant=tenant,
            action_type=HELD_REPLY,
            title="Held reply: a human was asked for",
            hold_reasons=[HoldReason.HUMAN_REQUESTED],
            conversation=conversation,
            message=held,
            requested_by=person,
            requested_by_agent="paid_ads_optimization",
            auto_approve=False,
        )
        titled_approval = approval_request(
            tenant=tenant,
            action_type="content_publish",
            title=f"Publish 1 email to {EMAIL} about the move to {ADDRESS}",
            action_data={"draft": f"Dear customer, call {PHONE}.", "description": "A draft."},
            conversation=conversation,
            requested_by=person,
            requested_by_agent="content_generation",
            estimated_cost=Decimal("0"),
            auto_approve=False,
        )
    outsider = StaffFactory(
        tenant=TenantFactory(slug="globex"), username="outsider", roles=[SUPER_ADMIN]
    )
    return Planted(
        tenant=tenant,
        staff=staff,
        person=person,
        conversation=conversation,
        question=question,
        held=held,
        held_approval=held_approval,
        titled_approval=titled_approval,
        outsider=outsider,
    )
