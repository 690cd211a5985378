"""The PRD's `calculate_risk_score`, factor by factor, so the console can show the breakdown, and
the policy that says which approvals a person must decide."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db.models import Count, Q

from accounts.models import User
from agents.types import AgentMode
from hitl.models import HELD_REPLY, Approval, RiskLevel

# Action types a person always decides, whatever their score (the PRD's high-risk actions).
HIGH_RISK_ACTIONS = frozenset({"budget_increase", "campaign_delete", "data_export"})

COST_STEPS = ((Decimal("25000"), 40), (Decimal("5000"), 30), (Decimal("500"), 15))
REACH_STEPS = ((1_000_000, 30), (100_000, 20), (10_000, 10))
ACTION_TYPE_POINTS = 20
HISTORY_POINTS = 10
LEVEL_CEILINGS = ((30, RiskLevel.LOW), (60, RiskLevel.MEDIUM), (85, RiskLevel.HIGH))


@dataclass(frozen=True)
class RiskFactor:
    factor: str
    points: Decimal
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class RiskAssessment:
    score: Decimal
    level: str
    factors: tuple[RiskFactor, ...]


def risk_level(score: Decimal | float) -> str:
    for ceiling, level in LEVEL_CEILINGS:
        if score <= ceiling:
            return level
    return RiskLevel.CRITICAL


def _step(value: Decimal | int | None, steps: tuple) -> int:
    if value is None:
        return 0
    for above, points in steps:
        if value > above:
            return points
    return 0


def rejection_share(user: User | None) -> Decimal:
    """The share of the requester's decided requests that were rejected (0 without history)."""
    if user is None:
        return Decimal(0)
    counts = Approval.objects.filter(requested_by=user).aggregate(
        decided=Count("id", filter=~Q(status__in=["pending", "escalated"])),
        rejected=Count("id", filter=Q(status="rejected")),
    )
    if not counts["decided"]:
        return Decimal(0)
    return Decimal(counts["rejected"]) / Decimal(counts["decided"])


def risk_assess(
    *,
    action_type: str,
    estimated_cost: Decimal | None,
    estimated_reach: int | None,
    requester_rejection_share: Decimal = Decimal(0),
) -> RiskAssessment:
    cost = _step(estimated_cost, COST_STEPS)
    reach = _step(estimated_reach, REACH_STEPS)
    kind = ACTION_TYPE_POINTS if action_type in HIGH_RISK_ACTIONS else 0
    history = (requester_rejection_share * HISTORY_POINTS).quantize(Decimal("0.01"))
    factors = (
        RiskFactor("cost", Decimal(cost), f"estimated cost {_money(estimated_cost)}"),
        RiskFactor("reach", Decimal(reach), f"estimated reach {_count(estimated_reach)}"),
        RiskFactor(
            "action_type",
            Decimal(kind),
            f"{action_type} is {'a high-risk' if kind else 'a standard'} action",
        ),
        RiskFactor(
            "history",
            history,
            f"{(requester_rejection_share * 100).quantize(Decimal('1'))}% of the requester's "
            "past requests were rejected",
        ),
    )
    score = min(sum((factor.points for factor in factors), Decimal(0)), Decimal(100))
    return RiskAssessment(score=score, level=risk_level(score), factors=factors)


def auto_approvable(*, action_type: str, level: str, mode: str) -> bool:
    """Low risk goes ahead alone unless the tenant reviews everything (manual mode); auto mode
    also lets medium risk through. A held reply and a high-risk action type always wait."""
    if action_type == HELD_REPLY or action_type in HIGH_RISK_ACTIONS or mode == AgentMode.MANUAL:
        return False
    if level == RiskLevel.LOW:
        return True
    return mode == AgentMode.AUTO and level == RiskLevel.MEDIUM


def priority_for(*, action_type: str, level: str) -> str:
    if level == RiskLevel.CRITICAL:
        return "urgent"
    if level == RiskLevel.HIGH or action_type == HELD_REPLY:
        # Somebody is waiting on the other end of a held reply.
        return "high"
    return "normal" if level == RiskLevel.MEDIUM else "low"


def _money(value: Decimal | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"
