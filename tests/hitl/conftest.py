from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

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
from agents.models import Campaign
from hitl.models import Approval
from hitl.services import approval_request
from tests.agents.factories import CampaignFactory
from tests.factories import ConversationFactory, StaffFactory, TenantFactory, UserFactory


@dataclass
class Team:
    tenant: Tenant
    staff: dict[str, User]
    requester: User
    conversation: Any
    campaign: Campaign
    outsider: User
    proposals: int = 0

    def client(self, name: str) -> APIClient:
        client = APIClient()
        user = self.requester if name == "requester" else self.staff.get(name) or self.outsider
        client.force_authenticate(user)
        return client

    def budget_increase(self, cost: str = "6000", **kwargs: Any) -> Approval:
        """15 + 20 points... a $6,000 increase scores 30 + 20 = 50: medium, so the Standard
        Budget Approval: a marketing manager, then a director or the CFO. Each call is a proposal
        of its own (the same proposal while one is open would attach to it): they differ in a
        reference."""
        self.proposals += 1
        values: dict[str, Any] = {
            "tenant": self.tenant,
            "action_type": "budget_increase",
            "title": f"Raise {self.campaign.name}'s daily budget to $150",
            "action_data": {
                "campaign_id": self.campaign.pk,
                "current_daily_budget": str(self.campaign.daily_budget),
                "new_daily_budget": "150",
                "proposal": self.proposals,
                "description": "ROAS 4.2x beats the 3.0x target.",
                "rationale": {"roas": "4.2", "target_roas": "3.0"},
            },
            "estimated_cost": Decimal(cost),
            "requested_by": self.requester,
            "requested_by_agent": "paid_ads_optimization",
            "conversation": self.conversation,
        }
        values.update(kwargs)
        return approval_request(**values)


ROLES = {
    "owner": SUPER_ADMIN,
    "support": SUPPORT_ADMIN,
    "compliance": COMPLIANCE_OFFICER,
    "readonly": READ_ONLY_ADMIN,
    "manager": MARKETING_MANAGER,
    "manager2": MARKETING_MANAGER,
    "director": DIRECTOR_MARKETING,
    "cfo": CFO,
}


@pytest.fixture
def team(db: None) -> Team:
    tenant = TenantFactory(slug="acme", tier=SubscriptionTier.BUSINESS)
    other = TenantFactory(slug="globex")
    staff = {
        name: StaffFactory(tenant=tenant, username=name, roles=[role], email=f"{name}@acme.example")
        for name, role in ROLES.items()
    }
    requester = UserFactory(tenant=tenant, username="maya", roles=[MEMBER])
    return Team(
        tenant=tenant,
        staff=staff,
        requester=requester,
        conversation=ConversationFactory(tenant=tenant, user=requester, channel="chat"),
        campaign=CampaignFactory(tenant=tenant, daily_budget=Decimal("100.00")),
        # Globex's super admin: every role there, nothing here.
        outsider=StaffFactory(tenant=other, username="outsider", roles=[SUPER_ADMIN]),
    )
