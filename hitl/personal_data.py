"""What hitl holds about a person, registered with privacy's registry (export, erasure).

An approval is about a person when they asked for it (`requested_by`) or it holds a reply to them
(`conversation__user`): its title and data may quote them, and so may what approvers wrote about
it. A member of staff's own words (decision notes, votes, history) are theirs. Erasure keeps every
row, status and timestamp (the queue's analytics and SLA figures) and drops the words.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat

from hitl.models import Approval, ApprovalHistory, ApprovalVote, Notification
from privacy.erasure import audit_trail_scrub
from privacy.registry import (
    ERASED,
    erase_delete,
    export_values,
    personal_data_register,
    strings_erased,
)


def approvals_requested_erase(approvals: QuerySet[Any]) -> int:
    rows = list(approvals.only("pk", "title", "action_data", "execution_result"))
    for approval in rows:
        approval.title = ERASED if approval.title else ""
        approval.action_data = strings_erased(approval.action_data)
        approval.execution_result = strings_erased(approval.execution_result)
        approval.notes = ""
        approval.reason = ""
    Approval.objects.bulk_update(
        rows, ["title", "action_data", "execution_result", "notes", "reason"], batch_size=500
    )
    ids = [approval.pk for approval in rows]
    ApprovalVote.objects.filter(approval_id__in=ids).update(notes="")
    history = list(ApprovalHistory.objects.filter(approval_id__in=ids).only("pk", "data"))
    for entry in history:
        entry.notes = ""
        entry.data = strings_erased(entry.data)
    ApprovalHistory.objects.bulk_update(history, ["notes", "data"], batch_size=500)
    # Approvers' notifications repeated the title (and the admin's log their str(), the title).
    notifications = Notification.objects.filter(approval_id__in=ids)
    audit_trail_scrub(Notification, notifications)
    notifications.update(
        title=Concat(Value("Approval #"), Cast("approval_id", CharField())), body=""
    )
    return len(rows)


personal_data_register(
    Approval,
    subject=("requested_by", "conversation__user"),
    section="approvals_requested",
    export=export_values(
        "id",
        "action_type",
        "title",
        "status",
        "action_data",
        "hold_reasons",
        "requested_by_agent",
        "conversation_id",
        "estimated_cost",
        "created_at",
        "decided_at",
        "execution_status",
    ),
    erase=approvals_requested_erase,
)
personal_data_register(
    Approval,
    subject="decided_by",
    section="approvals_decided",
    export=export_values("id", "action_type", "title", "status", "decided_at", "notes", "reason"),
    erase=lambda approvals: approvals.update(notes="", reason=""),
)
personal_data_register(
    ApprovalVote,
    subject="user",
    section="approval_votes",
    export=export_values("approval_id", "level", "notes", "created_at"),
    erase=lambda votes: votes.update(notes=""),
)
personal_data_register(
    ApprovalHistory,
    subject="actor",
    section="approval_history",
    export=export_values("approval_id", "event", "level", "notes", "created_at"),
    erase=lambda history: history.update(notes=""),
)
personal_data_register(
    Notification,
    subject="recipient",
    section="notifications",
    export=export_values("approval_id", "title", "body", "read_at", "created_at"),
    # The person's own inbox: nothing counts it.
    erase=erase_delete,
)
