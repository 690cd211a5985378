"""The approval's history: one row per thing that happened to it, for the audit trail."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from hitl.models import Approval, ApprovalHistory


def history_add(
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
