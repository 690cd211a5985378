"""Asking for an approval: the request is scored for risk, then either let through (low risk, as
the tenant's mode allows) or matched to a workflow and put in front of its first level."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Tenant, User
from agents.services import agent_settings_for
from hitl.models import Approval, ApprovalHistory
from hitl.notifications import approvers_notify
from hitl.risk import auto_approvable, priority_for, rejection_share, risk_assess
from hitl.services.execution import approval_execute, execution_status_for
from hitl.services.history import history_add
from hitl.services.levels import level_enter, level_grant
from hitl.workflows import workflow_match


def approval_request(
    *,
    tenant: Tenant,
    action_type: str,
    action_data: dict[str, Any] | None = None,
    title: str = "",
    hold_reasons: list[str] | None = None,
    conversation: Any = None,
    message: Any = None,
    requested_by: User | None = None,
    requested_by_agent: str = "",
    estimated_cost: Decimal | None = None,
    estimated_reach: int | None = None,
    execute: bool = True,
    auto_approve: bool = True,
) -> Approval:
    """Score the request and either let it through (low risk, as the tenant's mode allows) or
    put it in front of the people its workflow names (`auto_approve=False`: always a person). An
    auto-approved action runs once the
    transaction commits, unless the caller runs it itself (`execute=False`: the turn engine,
    after the reply that proposed it has gone out)."""
    now = timezone.now()
    risk = risk_assess(
        action_type=action_type,
        estimated_cost=estimated_cost,
        estimated_reach=estimated_reach,
        requester_rejection_share=rejection_share(requested_by),
    )
    approval = Approval(
        tenant=tenant,
        action_type=action_type,
        title=(title or action_type.replace("_", " ").capitalize())[:200],
        action_data=action_data or {},
        hold_reasons=hold_reasons or [],
        conversation=conversation,
        message=message,
        requested_by=requested_by,
        requested_by_agent=requested_by_agent,
        estimated_cost=estimated_cost,
        estimated_reach=estimated_reach,
        risk_score=risk.score,
        risk_level=risk.level,
        risk_factors=[factor.as_dict() for factor in risk.factors],
        priority=priority_for(action_type=action_type, level=risk.level),
        created_at=now,
    )
    mode = agent_settings_for(tenant).mode
    with transaction.atomic():
        if auto_approve and auto_approvable(action_type=action_type, level=risk.level, mode=mode):
            approval.status = Approval.Status.AUTO_APPROVED
            approval.decided_at = now
            approval.execution_status = execution_status_for(action_type)
            approval.save()
            history_add(approval, ApprovalHistory.Event.CREATED)
            history_add(
                approval,
                ApprovalHistory.Event.AUTO_APPROVED,
                notes=f"{risk.level} risk in {mode} mode",
            )
            if execute:
                transaction.on_commit(lambda: approval_execute(approval_id=approval.pk))
            return approval
        workflow = workflow_match(tenant=tenant, action_type=action_type, level=risk.level)
        approval.workflow = workflow
        approval.expires_at = now + timedelta(hours=settings.HITL_APPROVAL_EXPIRY_HOURS)
        level_enter(approval, 1, now)
        approval.save()
        history_add(approval, ApprovalHistory.Event.CREATED, level=1)
        level_grant(approval)
        approvers_notify(approval=approval, kind="created")
    return approval
