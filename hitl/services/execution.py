"""Running what was approved, once, and what happens when an approval ends without running."""

from __future__ import annotations

import logging

from django.utils import timezone

from hitl.models import Approval, ApprovalHistory
from hitl.notifications import requester_tell
from hitl.registry import ExecutionError, discard_for, executor_for
from hitl.services.history import history_add

logger = logging.getLogger(__name__)


def execution_status_for(action_type: str) -> str:
    return Approval.Execution.PENDING if executor_for(action_type) else Approval.Execution.NONE


def approval_discard(approval: Approval) -> None:
    """The approval ended without running (rejected, sent back, expired): the action type's
    discard undoes what waiting left behind, and the requester is told."""
    discard = discard_for(approval.action_type)
    if discard is not None:
        discard(approval)
    requester_tell(approval)


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
    history_add(approval, event, data=approval.execution_result)
    if not approval.is_held_reply:
        # A held reply's outcome is the reply itself.
        requester_tell(approval)
    return approval
