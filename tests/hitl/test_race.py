"""Two approvers, two connections, one approval: exactly one decision wins."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Tenant
from accounts.roles import MARKETING_MANAGER
from agents.models import ContentItem
from hitl.models import Approval
from hitl.services import approval_request
from tests.agents.factories import ContentItemFactory
from tests.factories import StaffFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def race(approval: Approval, users: list, decisions: list[tuple[str, dict]]) -> list[int]:
    barrier = threading.Barrier(len(users))
    statuses: list[int] = [0] * len(users)

    def decide(index: int) -> None:
        client = APIClient()
        client.force_authenticate(users[index])
        verb, body = decisions[index]
        try:
            barrier.wait(timeout=10)
            response = client.post(f"/api/v1/admin/hitl/{approval.pk}/{verb}", body, format="json")
            statuses[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


def publish_for_review(tenant: Tenant) -> tuple[Approval, ContentItem]:
    """15 + 20 = 35, medium: the General review, marketing managers decide."""
    item = ContentItemFactory(tenant=tenant, status="scheduled")
    approval = approval_request(
        tenant=tenant,
        action_type="content_publish",
        action_data={"content_id": item.pk},
        estimated_cost=Decimal("600"),
        estimated_reach=200_000,
        requested_by=UserFactory(tenant=tenant),
    )
    assert approval.status == "pending"
    return approval, item


@pytest.mark.parametrize("rounds", range(3))
def test_racing_approve_and_reject_exactly_one_wins(rounds: int) -> None:
    tenant = TenantFactory()
    managers = [StaffFactory(tenant=tenant, roles=[MARKETING_MANAGER]) for _ in range(2)]
    approval, item = publish_for_review(tenant)  # one approval needed
    statuses = race(approval, managers, [("approve", {}), ("reject", {"reason": "Not this week."})])
    assert sorted(statuses) == [200, 409], statuses
    approval.refresh_from_db()
    winner = statuses.index(200)
    if winner == 0:
        assert approval.status == "approved" and approval.execution_status == "succeeded"
        assert ContentItem.objects.get(pk=item.pk).status == "published"
    else:
        assert approval.status == "rejected"
        assert ContentItem.objects.get(pk=item.pk).status == "scheduled"
    assert approval.decided_by == managers[winner]
    assert approval.history.filter(event__in=["approved", "rejected"]).count() == 1


def test_two_votes_racing_for_a_level_of_two_both_count() -> None:
    """Row locking serialises the votes: the second sees the first and completes the level."""
    tenant = TenantFactory()
    managers = [StaffFactory(tenant=tenant, roles=[MARKETING_MANAGER]) for _ in range(2)]
    tenant.hitl_workflows.get(name="General review").levels.update(required_count=2)
    approval, _item = publish_for_review(tenant)
    assert race(approval, managers, [("approve", {}), ("approve", {})]) == [200, 200]
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.votes.count() == 2
