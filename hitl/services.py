"""Approvals: asking, deciding, running what was approved.

Deciding takes the approval's row lock, so approvers of one approval queue behind each other and
count each other's votes; the status change itself is a conditional update on the open statuses,
so of two racing decisions exactly one wins and the other gets a conflict.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from accounts.models import Tenant, User
from accounts.roles import MEMBER, SUPER_ADMIN
from agents.services import agent_settings_for
from hitl.models import (
    OPEN_STATUSES,
    Approval,
    ApprovalHistory,
    ApprovalLevel,
    ApprovalVote,
    HITLWorkflow,
)
from hitl.notifications import approvers_notify, requester_tell
from hitl.registry import ExecutionError, discard_for, editor_for, executor_for
from hitl.risk import auto_approvable, priority_for, rejection_share, risk_assess
from hitl.workflows import workflow_match

logger = logging.getLogger(__name__)

DECIDE = "hitl.decide_approval"
REMINDER_BEFORE = timedelta(hours=1)
# Without a workflow (a tenant that deleted them all), the tenant's super admins decide.
FALLBACK_SLA_HOURS = 24


class DecisionRefused(Exception):
    """A decision that cannot be taken; `status` is the HTTP status that says why."""

    def __init__(self, message: str, *, status: int = 409, code: str = "conflict") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _required(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


# --- asking -------------------------------------------------------------------------------


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
            approval.execution_status = _execution_for(action_type)
            approval.save()
            _history(approval, ApprovalHistory.Event.CREATED)
            _history(
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
        _enter_level(approval, 1, now)
        approval.save()
        _history(approval, ApprovalHistory.Event.CREATED, level=1)
        _grant_level(approval)
        approvers_notify(approval=approval, kind="created")
    return approval


def _execution_for(action_type: str) -> str:
    return Approval.Execution.PENDING if executor_for(action_type) else Approval.Execution.NONE


def _level(approval: Approval, number: int | None = None) -> ApprovalLevel | None:
    if approval.workflow is None:
        return None
    number = approval.current_level if number is None else number
    return next((lv for lv in approval.workflow.levels.all() if lv.level == number), None)


def _last_level(approval: Approval) -> int:
    if approval.workflow is None:
        return 1
    return max((lv.level for lv in approval.workflow.levels.all()), default=1)


def _enter_level(approval: Approval, number: int, now: datetime) -> None:
    """Move to a level: its deadline (never past the workflow's), when it escalates."""
    approval.current_level = number
    approval.level_started_at = now
    level = _level(approval, number)
    workflow: HITLWorkflow | None = approval.workflow
    level_hours = level.sla_hours if level else FALLBACK_SLA_HOURS
    deadline = now + timedelta(hours=level_hours)
    if workflow is not None:
        deadline = min(deadline, approval.created_at + timedelta(hours=workflow.sla_hours))
    approval.sla_deadline = max(deadline, now)
    approval.escalate_at = (
        now + timedelta(hours=workflow.escalation_hours) if workflow is not None else None
    )
    approval.reminded_at = None
    approval.breached_at = None
    approval.next_check_at = next_check(approval)


def next_check(approval: Approval) -> datetime | None:
    """The earliest moment the SLA sweep has something to do with the approval."""
    if approval.status not in OPEN_STATUSES:
        return None
    moments = [approval.expires_at, approval.escalate_at]
    if approval.sla_deadline and approval.breached_at is None:
        moments.append(approval.sla_deadline)
        if approval.reminded_at is None:
            moments.append(approval.sla_deadline - REMINDER_BEFORE)
    return min((moment for moment in moments if moment is not None), default=None)


def _holders_of(approval: Approval, roles: list[str]) -> list[User]:
    users = User.objects.filter(
        tenant_id=approval.tenant_id,
        is_active=True,
        is_deleted=False,
        groups__name__in=[role for role in roles if role != MEMBER],
    ).distinct()
    if approval.requested_by_id:
        users = users.exclude(pk=approval.requested_by_id)
    return list(users)


def _level_approvers(approval: Approval) -> list[User]:
    """The level's roles within the tenant; when nobody holds them (a small team), the
    workspace's super admins, so that an approval never waits for nobody."""
    level = _level(approval)
    return _holders_of(approval, level.approver_roles if level else [SUPER_ADMIN]) or (
        _holders_of(approval, [SUPER_ADMIN])
    )


def _grant_level(approval: Approval) -> None:
    users = _level_approvers(approval)
    if users:
        assign_perm(DECIDE, users, approval)


def _revoke_all(approval: Approval) -> None:
    holders = list(get_users_with_perms(approval, only_with_perms_in=["decide_approval"]))
    if holders:
        remove_perm(DECIDE, holders, approval)


def _history(
    approval: Approval,
    event: str,
    *,
    actor: User | None = None,
    level: int | None = None,
    notes: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    ApprovalHistory.objects.create(
        approval=approval, event=event, actor=actor, level=level, notes=notes, data=data or {}
    )


# --- deciding -----------------------------------------------------------------------------


def _lock_open(*, approval_id: int, user: User) -> Approval:
    try:
        approval = (
            Approval.objects.select_for_update(of=("self",))
            .select_related("workflow")
            .get(pk=approval_id, tenant_id=user.tenant_id)
        )
    except Approval.DoesNotExist:
        raise DecisionRefused("No such approval.", status=404, code="not_found") from None
    if approval.requested_by_id == user.pk:
        raise DecisionRefused(
            "You cannot decide your own request.", status=403, code="permission_denied"
        )
    if not approval.is_open:
        raise DecisionRefused(
            f"This approval is already {approval.get_status_display().lower()}.",
            code="already_decided",
        )
    if approval.votes.filter(level=approval.current_level, user=user).exists():
        raise DecisionRefused(
            f"You have already approved this at level {approval.current_level}.",
            code="already_voted",
        )
    if not user.has_perm(DECIDE, approval):
        raise DecisionRefused(
            "You may not decide this approval at its current level.",
            status=403,
            code="permission_denied",
        )
    return approval


def _close(approval: Approval, *, status: str, user: User | None, **fields: Any) -> None:
    """The conditional update that makes a decision final: only one caller can win it."""
    now = timezone.now()
    breached, breach_minutes = approval.sla_breached, approval.sla_breach_minutes
    if approval.sla_deadline and now > approval.sla_deadline:
        # Decided late (or never): the final minutes over, for the SLA figures.
        breached = True
        breach_minutes = int((now - approval.sla_deadline).total_seconds() // 60)
    won = Approval.objects.filter(pk=approval.pk, status__in=OPEN_STATUSES).update(
        status=status,
        decided_by=user,
        decided_at=now,
        next_check_at=None,
        sla_breached=breached,
        sla_breach_minutes=breach_minutes,
        **fields,
    )
    if not won:
        raise DecisionRefused("Someone decided this approval first.", code="already_decided")
    approval.refresh_from_db()
    _revoke_all(approval)


def approval_approve(
    *, approval_id: int, user: User, notes: str = "", edited_reply: str | None = None
) -> Approval:
    """One approver's yes. The level moves on when its required count is met; the approval is
    approved (and its action runs) when the last level's is."""
    with transaction.atomic():
        approval = _lock_open(approval_id=approval_id, user=user)
        if edited_reply is not None:
            edit = editor_for(approval.action_type)
            if edit is None:
                raise ValidationError({"edited_reply": "Only a held reply can be edited."})
            edit(
                approval,
                _required(edited_reply, "edited_reply", "The reply cannot be empty."),
                user,
            )
            notes = notes or "Approved with an edit."
        number = approval.current_level
        try:
            with transaction.atomic():
                ApprovalVote.objects.create(approval=approval, level=number, user=user, notes=notes)
        except IntegrityError:
            raise DecisionRefused(
                f"You have already approved this at level {number}.", code="already_voted"
            ) from None
        _history(approval, ApprovalHistory.Event.APPROVED, actor=user, level=number, notes=notes)
        level = _level(approval)
        votes = ApprovalVote.objects.filter(approval=approval, level=number).count()
        if votes < (level.required_count if level else 1):
            # This approver's part is done; the others of the level still decide.
            remove_perm(DECIDE, user, approval)
            return approval
        if number < _last_level(approval):
            _advance(approval, actor=user, event=None)
            return approval
        _close(
            approval,
            status=Approval.Status.APPROVED,
            user=user,
            notes=notes,
            execution_status=_execution_for(approval.action_type),
        )
    approval_execute(approval_id=approval.pk)
    approval.refresh_from_db()
    return approval


def _advance(
    approval: Approval, *, actor: User | None, event: str | None, reason: str = ""
) -> None:
    """Up one level: the new level's approvers get the approval (and are told)."""
    now = timezone.now()
    previous = approval.current_level
    _revoke_all(approval)
    _enter_level(approval, previous + 1, now)
    if event is not None:
        approval.status = Approval.Status.ESCALATED
    approval.save()
    if event is not None:
        _history(
            approval,
            event,
            actor=actor,
            level=previous,
            notes=reason,
            data={"to_level": approval.current_level},
        )
    _grant_level(approval)
    approvers_notify(approval=approval, kind="escalated" if event else "level")


def approval_reject(*, approval_id: int, user: User, reason: str) -> Approval:
    return _decline(
        approval_id=approval_id,
        user=user,
        status=Approval.Status.REJECTED,
        event=ApprovalHistory.Event.REJECTED,
        text=_required(reason, "reason", "Say why it is rejected: the requester is told."),
    )


def approval_request_changes(*, approval_id: int, user: User, feedback: str) -> Approval:
    return _decline(
        approval_id=approval_id,
        user=user,
        status=Approval.Status.CHANGES_REQUESTED,
        event=ApprovalHistory.Event.CHANGES_REQUESTED,
        text=_required(feedback, "feedback", "Say what should change."),
        held_reply_refusal=(
            "A held reply has no requester to revise it: edit it and approve, or reject it."
        ),
    )


def _decline(
    *,
    approval_id: int,
    user: User,
    status: str,
    event: str,
    text: str,
    held_reply_refusal: str = "",
) -> Approval:
    """A decision that ends the approval without running it; the requester is told why."""
    with transaction.atomic():
        approval = _lock_open(approval_id=approval_id, user=user)
        if held_reply_refusal and approval.is_held_reply:
            raise ValidationError({"feedback": held_reply_refusal})
        _close(approval, status=status, user=user, reason=text)
        _history(approval, event, actor=user, level=approval.current_level, notes=text)
    _ended_without_running(approval)
    return approval


def approval_escalate(
    *, approval_id: int, user: User, reason: str, escalate_to: int | None = None
) -> Approval:
    """Hand the approval to a named person, or up to the workflow's next level."""
    reason = _required(reason, "reason", "Say why it is escalated.")
    with transaction.atomic():
        approval = _lock_open(approval_id=approval_id, user=user)
        if escalate_to is None:
            if approval.current_level >= _last_level(approval):
                raise ValidationError(
                    {"escalate_to": "This is the last level: name the person to escalate to."}
                )
            _advance(approval, actor=user, event=ApprovalHistory.Event.ESCALATED, reason=reason)
            return approval
        target = User.objects.filter(
            pk=escalate_to, tenant_id=approval.tenant_id, is_active=True, is_deleted=False
        ).first()
        if target is None or not target.groups.exclude(name=MEMBER).exists():
            raise ValidationError({"escalate_to": "Not an approver of this workspace."})
        if target.pk in (user.pk, approval.requested_by_id):
            raise ValidationError(
                {"escalate_to": "Escalate to someone else than yourself or the requester."}
            )
        approval.status = Approval.Status.ESCALATED
        approval.assigned_to = target
        approval.save(update_fields=["status", "assigned_to"])
        assign_perm(DECIDE, target, approval)
        _history(
            approval,
            ApprovalHistory.Event.ESCALATED,
            actor=user,
            level=approval.current_level,
            notes=reason,
            data={"to_user": target.pk},
        )
        approvers_notify(approval=approval, kind="escalated", users=[target])
    return approval


def _ended_without_running(approval: Approval) -> None:
    discard = discard_for(approval.action_type)
    if discard is not None:
        discard(approval)
    requester_tell(approval)


# --- running ------------------------------------------------------------------------------


def approval_execute(*, approval_id: int) -> Approval | None:
    """Run an approved action once: the claim is a conditional update, so a retry (or the
    sweep) after a crash never runs it twice. The result or the failure is stored and the
    requester told."""
    claimed = Approval.objects.filter(
        pk=approval_id, execution_status=Approval.Execution.PENDING
    ).update(execution_status=Approval.Execution.RUNNING, executed_at=timezone.now())
    if not claimed:
        return None
    approval = Approval.objects.select_related("tenant").get(pk=approval_id)
    executor = executor_for(approval.action_type)
    try:
        if executor is None:
            raise ExecutionError(f"Nothing can carry out {approval.action_type} actions.")
        result = executor(approval)
    except Exception as exc:
        if not isinstance(exc, ExecutionError):
            logger.exception("approval %s: executor failed", approval.pk)
        approval.execution_status = Approval.Execution.FAILED
        approval.execution_result = {"error": str(exc) or exc.__class__.__name__}
        event = ApprovalHistory.Event.FAILED
    else:
        approval.execution_status = Approval.Execution.SUCCEEDED
        approval.execution_result = result
        event = ApprovalHistory.Event.EXECUTED
    approval.save(update_fields=["execution_status", "execution_result"])
    _history(approval, event, data=approval.execution_result)
    if not approval.is_held_reply:
        # A held reply's outcome is the reply itself.
        requester_tell(approval)
    return approval
