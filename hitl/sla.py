"""The SLA sweep (`monitor_hitl_sla`, every five minutes): reminders an hour before a level's
deadline, breaches with the minutes over, escalation after the workflow's escalation hours,
expiry. It reads only the approvals whose next check has come (a partial index on
`next_check_at`), so its work follows what is due, not how many approvals are open."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.roles import SUPER_ADMIN
from hitl.models import OPEN_STATUSES, Approval, ApprovalHistory
from hitl.notifications import approvers_notify
from hitl.services.decisions import approval_close
from hitl.services.execution import approval_discard, approval_execute
from hitl.services.history import history_add
from hitl.services.levels import (
    DECIDE,
    REMINDER_BEFORE,
    last_level,
    level_advance,
    next_check,
    role_holders,
)

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    checked: int = 0
    reminded: int = 0
    breached: int = 0
    escalated: int = 0
    expired: int = 0
    executed: int = 0
    ids: list[int] = field(default_factory=list)


def sla_sweep(*, now: datetime | None = None, batch: int | None = None) -> SweepResult:
    now = now or timezone.now()
    batch = batch or settings.HITL_SWEEP_BATCH
    result = SweepResult()
    due = list(
        Approval.objects.filter(status__in=OPEN_STATUSES, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    for approval_id in due:
        try:
            _check(approval_id, now, result)
        except Exception:
            # One broken approval must not stop the others; it is tried again next time.
            logger.exception("SLA sweep: approval %s failed", approval_id)
    result.executed = _run_waiting_executions(now)
    return result


def _check(approval_id: int, now: datetime, result: SweepResult) -> None:
    ended = False
    with transaction.atomic():
        approval = (
            Approval.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workflow")
            .filter(pk=approval_id, status__in=OPEN_STATUSES, next_check_at__lte=now)
            .first()
        )
        if approval is None:
            return  # decided meanwhile, or another sweep has it
        result.checked += 1
        result.ids.append(approval.pk)
        if approval.expires_at and approval.expires_at <= now:
            approval_close(approval, status=Approval.Status.EXPIRED, user=None)
            history_add(approval, ApprovalHistory.Event.EXPIRED, level=approval.current_level)
            result.expired += 1
            ended = True
        else:
            _deadline(approval, now, result)
            if approval.escalate_at and approval.escalate_at <= now:
                _escalate(approval, now)
                result.escalated += 1
            approval.next_check_at = next_check(approval)
            approval.save()
    if ended:
        approval_discard(approval)


def _deadline(approval: Approval, now: datetime, result: SweepResult) -> None:
    deadline = approval.sla_deadline
    if deadline is None or approval.breached_at is not None:
        return
    if deadline <= now:
        minutes = int((now - deadline).total_seconds() // 60)
        approval.breached_at = now
        approval.sla_breached = True
        approval.sla_breach_minutes = minutes
        history_add(
            approval,
            ApprovalHistory.Event.BREACHED,
            level=approval.current_level,
            data={"minutes_over": minutes},
        )
        approvers_notify(approval=approval, kind="breached")
        result.breached += 1
    elif approval.reminded_at is None and deadline - REMINDER_BEFORE <= now:
        approval.reminded_at = now
        history_add(approval, ApprovalHistory.Event.REMINDED, level=approval.current_level)
        approvers_notify(approval=approval, kind="reminder")
        result.reminded += 1


def _escalate(approval: Approval, now: datetime) -> None:
    """Up a level; past the last one, to the tenant's super admins, once."""
    if approval.workflow is not None and approval.current_level < last_level(approval):
        level_advance(
            approval,
            actor=None,
            event=ApprovalHistory.Event.ESCALATED,
            reason=f"Undecided for {approval.workflow.escalation_hours} h",
        )
        return
    approval.escalate_at = None
    approval.status = Approval.Status.ESCALATED
    admins = role_holders(approval, [SUPER_ADMIN])
    if admins:
        assign_perm(DECIDE, admins, approval)
    history_add(
        approval,
        ApprovalHistory.Event.ESCALATED,
        level=approval.current_level,
        notes="Undecided at the last level: handed to the workspace's super admins.",
        data={"to_role": SUPER_ADMIN},
    )
    approvers_notify(approval=approval, kind="escalated", users=admins)


def _run_waiting_executions(now: datetime) -> int:
    """Approved actions whose run never started (the process died after the decision)."""
    stale = now - timedelta(seconds=settings.HITL_EXECUTION_GRACE_SECONDS)
    waiting = Approval.objects.filter(
        execution_status=Approval.Execution.PENDING, decided_at__lt=stale
    ).values_list("pk", flat=True)[: settings.HITL_SWEEP_BATCH]
    return sum(approval_execute(approval_id=pk) is not None for pk in waiting)
