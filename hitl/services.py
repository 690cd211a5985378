from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import Tenant
from hitl.models import Approval


def approval_request(
    *,
    tenant: Tenant,
    action_type: str,
    action_data: dict[str, Any] | None = None,
    hold_reasons: list[str] | None = None,
    conversation: Any = None,
    message: Any = None,
    requested_by_agent: str = "",
    estimated_cost: Decimal | None = None,
    estimated_reach: int | None = None,
) -> Approval:
    """Put something in front of a human. The HITL issue adds risk, workflow and SLA here."""
    return Approval.objects.create(
        tenant=tenant,
        action_type=action_type,
        action_data=action_data or {},
        hold_reasons=hold_reasons or [],
        conversation=conversation,
        message=message,
        requested_by_agent=requested_by_agent,
        estimated_cost=estimated_cost,
        estimated_reach=estimated_reach,
    )
