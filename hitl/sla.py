"""The SLA sweep (`monitor_hitl_sla`, every five minutes): reminders an hour before a level's
deadline, breaches with the minutes over, escalation after the workflow's escalation hours,
expiry. It reads only the approvals whose next check has come (a partial index on
`next_check_at`), so its work follows what is due, not how many approvals are open.

A batch is one transaction: its approvals are locked in one query (FOR UPDATE SKIP LOCKED, so
an overlapping sweep takes others, never the same), reminders and breaches, the common case, are
written in bulk (the rows, their history, their audit-log entries), and each approver gets one
console notification and one email for the whole batch. Escalation and expiry, rarer and with
more to do, run approval by approval, each in a savepoint: one that fails is rolled back alone
and tried again next time. Should the batch itself fail, its approvals are checked again one by
one."""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.roles import SUPER_ADMIN
from hitl.models import OPEN_STATUSES, Approval, ApprovalHistory
from hitl.notifications import (
    ApproverDigest,
    Notice,
    approvers_by_approval,
    approvers_digest,
    approvers_notify,
    notified_data,
)
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

# What a reminder or a breach changes on the approval, and what the bulk path writes.
DEADLINE_FIELDS = ["reminded_at", "breached_at", "sla_breached", "sla_breach_minutes"]
SWEPT_FIELDS = [*DEADLINE_FIELDS, "next_check_at"]


@dataclass
class SweepResult:
    checked: int = 0
    reminded: int = 0
    breached: int = 0
    escalated: int = 0
    expired: int = 0
    executed: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, other: SweepResult) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Deadline:
    """What the deadline check found: a history event, the notice's kind, the history data."""

    event: str
    kind: str
    data: dict[str, Any]


def sla_sweep(*, now: datetime | None = None, batch: int | None = None) -> SweepResult:
    now = now or timezone.now()
    batch = batch or settings.HITL_SWEEP_BATCH
    result = SweepResult()
    picked: list[int] = []
    try:
        _sweep(now, result, limit=batch, picked=picked)
    except Exception:
        # One broken approval must not stop the others: each on its own, and what fails again
        # is tried next time.
        logger.exception("SLA sweep: the batch failed; checking its approvals one by one")
        for approval_id in picked:
            try:
                _sweep(now, result, limit=1, only=approval_id)
            except Exception:
                logger.exception("SLA sweep: approval %s failed", approval_id)
    result.executed = _run_waiting_executions(now)
    return result


def _sweep(
    now: datetime,
    result: SweepResult,
    *,
    limit: int,
    only: int | None = None,
    picked: list[int] | None = None,
) -> None:
    done = SweepResult()
    ended: list[Approval] = []
    with transaction.atomic(), approvers_digest(now=now) as digest:
        due = Approval.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status__in=OPEN_STATUSES, next_check_at__lte=now
        )
        if only is not None:
            due = due.filter(pk=only)
        approvals = list(due.select_related("workflow").order_by("next_check_at")[:limit])
        if picked is not None:
            picked.extend(approval.pk for approval in approvals)
        done.checked = len(approvals)
        done.ids = [approval.pk for approval in approvals]
        simple = []
        for approval in approvals:
            if _expired(approval, now) or _escalating(approval, now):
                _check_alone(approval, now, done, digest, ended)
            else:
                simple.append(approval)
        _deadlines_in_bulk(simple, now, done, digest)
        digest.send(tenant_ids={approval.pk: approval.tenant_id for approval in approvals})
    result.add(done)
    for approval in ended:
        try:
            approval_discard(approval)
        except Exception:
            logger.exception("SLA sweep: approval %s expired, its discard failed", approval.pk)


def _expired(approval: Approval, now: datetime) -> bool:
    return approval.expires_at is not None and approval.expires_at <= now


def _escalating(approval: Approval, now: datetime) -> bool:
    return approval.escalate_at is not None and approval.escalate_at <= now


def _check_alone(
    approval: Approval,
    now: datetime,
    done: SweepResult,
    digest: ApproverDigest,
    ended: list[Approval],
) -> None:
    """Expiry, or a deadline check and an escalation, in a savepoint of its own."""
    mark = digest.mark()
    counts = SweepResult()
    try:
        with transaction.atomic():
            if _expired(approval, now):
                approval_close(approval, status=Approval.Status.EXPIRED, user=None)
                history_add(approval, ApprovalHistory.Event.EXPIRED, level=approval.current_level)
                counts.expired += 1
            else:
                found = _deadline(approval, now)
                if found is not None:
                    history_add(
                        approval, found.event, level=approval.current_level, data=found.data
                    )
                    approvers_notify(approval=approval, kind=found.kind)
                    _count(counts, found)
                _escalate(approval)
                counts.escalated += 1
                approval.next_check_at = next_check(approval)
                approval.save()
    except Exception:
        digest.forget_since(mark)
        logger.exception("SLA sweep: approval %s failed", approval.pk)
        return
    done.add(counts)
    if counts.expired:
        ended.append(approval)


def _deadline(approval: Approval, now: datetime) -> _Deadline | None:
    """A breach or a reminder, set on the approval (not saved); None when neither is due."""
    deadline = approval.sla_deadline
    if deadline is None or approval.breached_at is not None:
        return None
    if deadline <= now:
        minutes = int((now - deadline).total_seconds() // 60)
        approval.breached_at = now
        approval.sla_breached = True
        approval.sla_breach_minutes = minutes
        return _Deadline(ApprovalHistory.Event.BREACHED, "breached", {"minutes_over": minutes})
    if approval.reminded_at is None and deadline - REMINDER_BEFORE <= now:
        approval.reminded_at = now
        return _Deadline(ApprovalHistory.Event.REMINDED, "reminder", {})
    return None


def _deadlines_in_bulk(
    approvals: list[Approval], now: datetime, done: SweepResult, digest: ApproverDigest
) -> None:
    """Reminders and breaches of approvals with nothing else due: the same rows, history,
    audit-log entries and notices as one by one, in a constant number of queries."""
    recipients = approvers_by_approval(approvals)
    changed: list[tuple[Approval, Approval]] = []
    history: list[ApprovalHistory] = []
    for approval in approvals:
        before = copy.copy(approval)
        found = _deadline(approval, now)
        approval.next_check_at = next_check(approval)
        changed.append((before, approval))
        if found is None:
            continue
        history.append(
            ApprovalHistory(
                approval=approval, event=found.event, level=approval.current_level, data=found.data
            )
        )
        _count(done, found)
        told = recipients.get(approval.pk, [])
        if told:
            notice = Notice.of(approval, found.kind)
            history.append(
                ApprovalHistory(
                    approval=approval,
                    event=ApprovalHistory.Event.NOTIFIED,
                    level=approval.current_level,
                    data=notified_data(notice, told),
                )
            )
            digest.add(notice, told)
    written = [(old, new) for old, new in changed if _differs(old, new)]
    _update_in_bulk([new for _, new in written], SWEPT_FIELDS)
    ApprovalHistory.objects.bulk_create(history, batch_size=1000)
    _audit_updates(written)


def _count(result: SweepResult, found: _Deadline) -> None:
    if found.kind == "breached":
        result.breached += 1
    else:
        result.reminded += 1


def _update_in_bulk(approvals: list[Approval], names: list[str]) -> None:
    """What `bulk_update` does in one UPDATE, at a fraction of its cost: it writes a CASE arm
    per row and field, this one per distinct value (a reminder's `reminded_at` is the same for
    all; only the next check and the minutes over differ). The rows are locked: what is written
    for a field that did not change is what it holds."""
    if not approvals:
        return
    values: dict[str, Any] = {}
    for name in names:
        model_field = next(f for f in Approval._meta.concrete_fields if f.name == name)
        by_value: dict[Any, list[int]] = defaultdict(list)
        for approval in approvals:
            by_value[getattr(approval, name)].append(approval.pk)
        if len(by_value) == 1:
            values[name] = next(iter(by_value))
            continue
        case: Case | Cast = Case(
            *[
                When(pk__in=pks, then=Value(value, output_field=model_field))
                for value, pks in by_value.items()
            ],
            output_field=model_field,
        )
        # As bulk_update does: PostgreSQL types a CASE of parameters as text otherwise.
        if connection.features.requires_casted_case_in_updates:
            case = Cast(case, output_field=model_field)
        values[name] = case
    Approval.objects.filter(pk__in=[approval.pk for approval in approvals]).update(**values)


def _differs(old: Approval, new: Approval) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in SWEPT_FIELDS)


def _audit_updates(pairs: list[tuple[Approval, Approval]]) -> None:
    """The entries `save()` would have written to django-auditlog, for rows updated in bulk
    (which sends no signals). The sweep acts for nobody: no actor, as before."""
    if auditlog_disabled.get():
        return
    LogEntry = get_logentry_model()
    content_type = ContentType.objects.get_for_model(Approval)
    cid = get_cid()
    entries = []
    for old, new in pairs:
        # Only these can differ: the diff of every field would say the same, slower.
        changes = model_instance_diff(
            old,
            new,
            fields_to_check=SWEPT_FIELDS,
            use_json_for_changes=getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False),
        )
        if changes:
            entries.append(
                LogEntry(
                    content_type=content_type,
                    object_pk=str(new.pk),
                    object_id=new.pk,
                    object_repr=str(new),
                    action=LogEntry.Action.UPDATE,
                    changes=changes,
                    additional_data=new.get_additional_data(),
                    cid=cid,
                )
            )
    LogEntry.objects.bulk_create(entries, batch_size=1000)


def _escalate(approval: Approval) -> None:
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
