"""How urgent things are: the priority of an alert, an agent's proposal or a pending approval, and
the reader's minimum priority applied to them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from agents.backends.base import ProposedAction
from agents.types import ActionType
from channels_app.email.compose.parts import Alert
from channels_app.email.models import PRIORITY_RANK, Priority
from hitl.models import Approval, HoldReason

# An approval waiting this long, or one a person asked a human for, is urgent.
APPROVAL_URGENT_AGE = timedelta(hours=24)
APPROVAL_HIGH_COST = Decimal("1000")
CHURN_URGENT = Decimal("0.500")


def at_least(priority: str, minimum: str) -> bool:
    return PRIORITY_RANK[Priority(priority)] >= PRIORITY_RANK[Priority(minimum)]


def recommendation_priority(action: ProposedAction) -> str:
    """How soon an agent's proposal deserves attention: money being lost first."""
    if action.action_type == ActionType.CAMPAIGN_PAUSE:
        return Priority.HIGH
    if action.action_type == ActionType.DATA_EXPORT:
        churn = Decimal(str(action.rationale.get("churn_risk", "0")))
        return Priority.HIGH if churn >= CHURN_URGENT else Priority.MEDIUM
    if action.action_type == ActionType.CONTENT_PUBLISH:
        return Priority.LOW
    return Priority.MEDIUM


def approval_priority(approval: Approval, now: datetime) -> str:
    """By what the hold says: a person waiting for a human or a day-old request is urgent; an
    action with money or data at stake is high; a reply held for low confidence is medium."""
    reasons = set(approval.hold_reasons or [])
    if HoldReason.HUMAN_REQUESTED in reasons or now - approval.created_at >= APPROVAL_URGENT_AGE:
        return Priority.URGENT
    if (
        reasons & {HoldReason.ACTION, HoldReason.AGENT_ERROR}
        or (approval.estimated_cost or Decimal("0")) >= APPROVAL_HIGH_COST
    ):
        return Priority.HIGH
    return Priority.MEDIUM


def ranked_alerts(alerts: list[Alert], minimum: str) -> list[Alert]:
    kept = [a for a in alerts if at_least(a.priority, minimum)]
    return sorted(kept, key=lambda a: -PRIORITY_RANK[Priority(a.priority)])
