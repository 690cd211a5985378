"""Approvals: asking, deciding, running what was approved.

- `request`: asking for an approval (risk, workflow, priority, auto-approve);
- `decisions`: approve, reject, request changes, escalate;
- `execution`: running what was approved, and what happens when an approval ends without running;
- `levels`: approval levels and who holds the permission to decide them;
- `history`: the approval's history rows.
"""

from __future__ import annotations

from hitl.services.decisions import (
    DecisionRefused,
    approval_approve,
    approval_escalate,
    approval_reject,
    approval_request_changes,
)
from hitl.services.execution import approval_execute
from hitl.services.levels import DECIDE, REMINDER_BEFORE, next_check
from hitl.services.request import approval_request

__all__ = [
    "DECIDE",
    "REMINDER_BEFORE",
    "DecisionRefused",
    "approval_approve",
    "approval_escalate",
    "approval_execute",
    "approval_reject",
    "approval_request",
    "approval_request_changes",
    "next_check",
]
