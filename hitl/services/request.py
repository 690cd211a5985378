"""Asking for an approval: the request is scored for risk, then either let through (low risk, as
the tenant's mode allows) or matched to a workflow and put in front of its first level."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Tenant, User
from agents.services import agent_settings_for
from hitl.models import HELD_REPLY, OPEN_STATUSES, Approval, ApprovalHistory
from hitl.notifications import approvers_notify
from hitl.risk import auto_approvable, priority_for, rejection_share, risk_assess
from hitl.services.execution import approval_execute, execution_status_for
from hitl.services.history import history_add
from hitl.services.levels import level_enter, level_grant
from hitl.workflows import workflow_match

# What explains an action rather than names it: two requests that differ only in these are one.
EXPLANATION_KEYS = frozenset({"description", "rationale", "requested"})


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
    put it in front of the people its workflow names (`auto_approve=False`: always a person).
    The same action on the same target while one is open is that approval, asked again. An
    auto-approved action runs once the
    transaction commits, unless the caller runs it itself (`execute=False`: the turn engine,
    after the reply that proposed it has gone out)."""
    target_key = target_key_of(
        action_type=action_type, action_data=action_data or {}, agent=requested_by_agent
    )
    repeat = _open_twin(tenant=tenant, target_key=target_key)
    if repeat is not None:
        if (action_data or {}).get("requested") and not repeat.action_data.get("requested"):
            # The person now asks for what the agent suggested: it is theirs, still pending.
            repeat.action_data = {**repeat.action_data, "requested": True}
            repeat.save(update_fields=["action_data"])
        history_add(repeat, ApprovalHistory.Event.REPEATED, notes=requested_by_agent or "")
        return repeat
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
        target_key=target_key,
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


def target_key_of(*, action_type: str, action_data: dict[str, Any], agent: str) -> str:
    """What an agent's proposal acts on, hashed: its type and data without what only explains
    it. Blank (never a twin) for held replies, which are each their own, and for what people
    file."""
    if not agent or action_type == HELD_REPLY:
        return ""
    target = {
        key: _canonical(value) for key, value in action_data.items() if key not in EXPLANATION_KEYS
    }
    canonical = json.dumps([action_type, target], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    """One spelling per amount: "480", "480.00" and 480 are the same budget."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return value
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return value


def _open_twin(*, tenant: Tenant, target_key: str) -> Approval | None:
    """An open approval of the same proposal: asking again attaches to it instead of filing (and
    notifying) a copy."""
    if not target_key:
        return None
    return (
        Approval.objects.filter(tenant=tenant, target_key=target_key, status__in=OPEN_STATUSES)
        .select_related("workflow")
        .order_by("created_at", "pk")
        .first()
    )
