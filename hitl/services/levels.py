"""Approval levels and who holds them: entering a level (its deadline, when it escalates, the
SLA sweep's next check), moving up one, and the per-object `decide_approval` permission
(django-guardian) that the level's approvers are granted and lose."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from accounts.models import User
from accounts.roles import MEMBER, SUPER_ADMIN
from hitl.models import OPEN_STATUSES, Approval, ApprovalLevel, HITLWorkflow
from hitl.notifications import approvers_notify
from hitl.services.history import history_add

DECIDE = "hitl.decide_approval"
REMINDER_BEFORE = timedelta(hours=1)
# Without a workflow (a tenant that deleted them all), the tenant's super admins decide.
FALLBACK_SLA_HOURS = 24


def level_of(approval: Approval, number: int | None = None) -> ApprovalLevel | None:
    if approval.workflow is None:
        return None
    number = approval.current_level if number is None else number
    return next((lv for lv in approval.workflow.levels.all() if lv.level == number), None)


def last_level(approval: Approval) -> int:
    if approval.workflow is None:
        return 1
    return max((lv.level for lv in approval.workflow.levels.all()), default=1)


def level_enter(approval: Approval, number: int, now: datetime) -> None:
    """Move to a level: its deadline (never past the workflow's), when it escalates."""
    approval.current_level = number
    approval.level_started_at = now
    level = level_of(approval, number)
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


def role_holders(approval: Approval, roles: list[str]) -> list[User]:
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
    level = level_of(approval)
    return role_holders(approval, level.approver_roles if level else [SUPER_ADMIN]) or (
        role_holders(approval, [SUPER_ADMIN])
    )


def level_grant(approval: Approval) -> None:
    users = _level_approvers(approval)
    if users:
        assign_perm(DECIDE, users, approval)


def approvers_revoke(approval: Approval) -> None:
    holders = list(get_users_with_perms(approval, only_with_perms_in=["decide_approval"]))
    if holders:
        remove_perm(DECIDE, holders, approval)


def level_advance(
    approval: Approval, *, actor: User | None, event: str | None, reason: str = ""
) -> None:
    """Up one level: the new level's approvers get the approval (and are told)."""
    now = timezone.now()
    previous = approval.current_level
    approvers_revoke(approval)
    level_enter(approval, previous + 1, now)
    if event is not None:
        approval.status = Approval.Status.ESCALATED
    approval.save()
    if event is not None:
        history_add(
            approval,
            event,
            actor=actor,
            level=previous,
            notes=reason,
            data={"to_level": approval.current_level},
        )
    level_grant(approval)
    approvers_notify(approval=approval, kind="escalated" if event else "level")
