"""Deciding an approval: approve, reject, request changes, escalate.

Deciding takes the approval's row lock, so approvers of one approval queue behind each other and
count each other's votes; the status change itself is a conditional update on the open statuses,
so of two racing decisions exactly one wins and the other gets a conflict.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from accounts.roles import MEMBER
from hitl.models import OPEN_STATUSES, Approval, ApprovalHistory, ApprovalVote
from hitl.notifications import approvers_notify
from hitl.registry import editor_for
from hitl.services.execution import approval_discard, approval_execute, execution_status_for
from hitl.services.history import history_add
from hitl.services.levels import DECIDE, approvers_revoke, last_level, level_advance, level_of


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


def approval_close(approval: Approval, *, status: str, user: User | None, **fields: Any) -> None:
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
    approvers_revoke(approval)


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
        history_add(approval, ApprovalHistory.Event.APPROVED, actor=user, level=number, notes=notes)
        level = level_of(approval)
        votes = ApprovalVote.objects.filter(approval=approval, level=number).count()
        if votes < (level.required_count if level else 1):
            # This approver's part is done; the others of the level still decide.
            remove_perm(DECIDE, user, approval)
            return approval
        if number < last_level(approval):
            level_advance(approval, actor=user, event=None)
            return approval
        approval_close(
            approval,
            status=Approval.Status.APPROVED,
            user=user,
            notes=notes,
            execution_status=execution_status_for(approval.action_type),
        )
    approval_execute(approval_id=approval.pk)
    approval.refresh_from_db()
    return approval


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
        approval_close(approval, status=status, user=user, reason=text)
        history_add(approval, event, actor=user, level=approval.current_level, notes=text)
    approval_discard(approval)
    return approval


def approval_escalate(
    *, approval_id: int, user: User, reason: str, escalate_to: int | None = None
) -> Approval:
    """Hand the approval to a named person, or up to the workflow's next level."""
    reason = _required(reason, "reason", "Say why it is escalated.")
    with transaction.atomic():
        approval = _lock_open(approval_id=approval_id, user=user)
        if escalate_to is None:
            if approval.current_level >= last_level(approval):
                raise ValidationError(
                    {"escalate_to": "This is the last level: name the person to escalate to."}
                )
            level_advance(
                approval, actor=user, event=ApprovalHistory.Event.ESCALATED, reason=reason
            )
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
        history_add(
            approval,
            ApprovalHistory.Event.ESCALATED,
            actor=user,
            level=approval.current_level,
            notes=reason,
            data={"to_user": target.pk},
        )
        approvers_notify(approval=approval, kind="escalated", users=[target])
    return approval
