"""The PRD's calculate_risk_score, step by step at its boundaries, and the levels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.types import AgentMode
from hitl.models import Approval
from hitl.risk import auto_approvable, rejection_share, risk_assess, risk_level
from hitl.services import approval_request
from tests.factories import TenantFactory, UserFactory


def score(**kwargs: object) -> Decimal:
    values: dict = {
        "action_type": "content_publish",
        "estimated_cost": None,
        "estimated_reach": None,
    }
    values.update(kwargs)
    return risk_assess(**values).score


@pytest.mark.parametrize(
    ("cost", "points"),
    [
        (None, 0),
        ("0", 0),
        ("500", 0),
        ("500.01", 15),
        ("5000", 15),
        ("5000.01", 30),
        ("25000", 30),
        ("25000.01", 40),
        ("1000000", 40),
    ],
)
def test_cost_steps(cost: str | None, points: int) -> None:
    assert score(estimated_cost=None if cost is None else Decimal(cost)) == points


@pytest.mark.parametrize(
    ("reach", "points"),
    [
        (None, 0),
        (10_000, 0),
        (10_001, 10),
        (100_000, 10),
        (100_001, 20),
        (1_000_000, 20),
        (1_000_001, 30),
    ],
)
def test_reach_steps(reach: int | None, points: int) -> None:
    assert score(estimated_reach=reach) == points


@pytest.mark.parametrize(
    ("action_type", "points"),
    [
        ("budget_increase", 20),
        ("campaign_delete", 20),
        ("data_export", 20),
        ("budget_allocation", 0),
        ("campaign_pause", 0),
        ("held_reply", 0),
    ],
)
def test_action_type_points(action_type: str, points: int) -> None:
    assert score(action_type=action_type) == points


@pytest.mark.parametrize(
    ("share", "points"), [("0", "0"), ("0.25", "2.5"), ("0.333", "3.33"), ("1", "10")]
)
def test_history_adds_up_to_ten(share: str, points: str) -> None:
    assert score(requester_rejection_share=Decimal(share)) == Decimal(points)


def test_capped_at_one_hundred() -> None:
    everything = score(
        action_type="budget_increase",
        estimated_cost=Decimal("30000"),
        estimated_reach=2_000_000,
        requester_rejection_share=Decimal(1),
    )
    assert everything == 100  # 40 + 30 + 20 + 10


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0, "low"),
        (30, "low"),
        (Decimal("30.01"), "medium"),
        (31, "medium"),
        (60, "medium"),
        (61, "high"),
        (85, "high"),
        (Decimal("85.5"), "critical"),
        (86, "critical"),
        (100, "critical"),
    ],
)
def test_levels(value: Decimal | int, level: str) -> None:
    assert risk_level(value) == level


def test_the_breakdown_names_every_factor() -> None:
    assessed = risk_assess(
        action_type="budget_increase",
        estimated_cost=Decimal("6000"),
        estimated_reach=150_000,
        requester_rejection_share=Decimal("0.5"),
    )
    assert [(f.factor, f.points) for f in assessed.factors] == [
        ("cost", 30),
        ("reach", 20),
        ("action_type", 20),
        ("history", 5),
    ]
    assert assessed.score == 75 and assessed.level == "high"
    assert "$6,000.00" in assessed.factors[0].detail


@pytest.mark.parametrize(
    ("action_type", "level", "mode", "auto"),
    [
        ("content_publish", "low", AgentMode.SEMI_AUTO, True),
        ("content_publish", "low", AgentMode.AUTO, True),
        ("content_publish", "low", AgentMode.MANUAL, False),
        ("content_publish", "medium", AgentMode.SEMI_AUTO, False),
        ("content_publish", "medium", AgentMode.AUTO, True),
        ("content_publish", "high", AgentMode.AUTO, False),
        ("budget_increase", "low", AgentMode.AUTO, False),
        ("data_export", "low", AgentMode.SEMI_AUTO, False),
        ("held_reply", "low", AgentMode.AUTO, False),
    ],
)
def test_auto_approval_policy(action_type: str, level: str, mode: str, auto: bool) -> None:
    assert auto_approvable(action_type=action_type, level=level, mode=mode) is auto


@pytest.mark.django_db
def test_history_is_the_share_of_decided_requests_rejected() -> None:
    tenant = TenantFactory()
    maya = UserFactory(tenant=tenant)
    assert rejection_share(maya) == 0
    for status in ["rejected", "approved", "approved", "rejected", "pending"]:
        Approval.objects.create(tenant=tenant, requested_by=maya, action_type="x", status=status)
    # 2 of the 4 decided ones; the pending one does not count yet.
    assert rejection_share(maya) == Decimal("0.5")
    approval = approval_request(
        tenant=tenant,
        action_type="budget_increase",
        estimated_cost=Decimal("6000"),
        requested_by=maya,
    )
    assert approval.risk_score == Decimal("55.00")  # 30 + 20 + 5
    assert approval.risk_level == "medium"
