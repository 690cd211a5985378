"""The decision explainer (seed 002's DecisionExplainer): why the agent proposed it, the data
behind it, the risk breakdown, where it stands in its workflow, and what happened so far. The
API answers it as JSON and the console renders it."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from hitl.models import Approval, HoldReason
from privacy.masking import mask_text
from privacy.reveal import text_for

EXPLAINED_KEYS = ("description", "rationale", "requested")


def masked(value: Any) -> Any:
    """The action's data with personal data masked in every string (a draft, a topic quoting
    the person), its shape kept."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    return value


def _hold_reason(value: str) -> str:
    try:
        return str(HoldReason(value).label)
    except ValueError:
        return value


def approval_explain(*, approval: Approval, viewer: User) -> dict[str, Any]:
    data = approval.action_data or {}
    reply = approval.message
    inbound = reply.reply_to if reply is not None else None
    votes = list(approval.votes.select_related("user"))
    levels = []
    if approval.workflow is not None:
        for level in approval.workflow.levels.all():
            levels.append(
                {
                    "level": level.level,
                    "approver_roles": level.approver_roles,
                    "required_count": level.required_count,
                    "sla_hours": level.sla_hours,
                    "approved_by": [v.user.username for v in votes if v.level == level.level],
                    "state": _level_state(level.level, approval),
                }
            )
    return {
        "why": {
            "agent": approval.requested_by_agent or None,
            "requested_by": approval.requested_by.username if approval.requested_by else None,
            "hold_reasons": [_hold_reason(reason) for reason in approval.hold_reasons],
            "description": mask_text(data.get("description", "")),
            "rationale": data.get("rationale", {}),
            "question": text_for(viewer, inbound.body) if inbound is not None else None,
            "proposed_reply": text_for(viewer, reply.body) if reply is not None else None,
            "reply_confidence": reply.confidence if reply is not None else None,
            # The person asked for exactly this, or it is the agent's own suggestion.
            "requested": bool(data.get("requested")),
            "understood": (reply.metadata or {}).get("understood") if reply is not None else None,
        },
        "data": {key: masked(value) for key, value in data.items() if key not in EXPLAINED_KEYS},
        "risk": {
            "score": str(approval.risk_score),
            "level": approval.risk_level,
            "factors": approval.risk_factors,
        },
        "workflow": {
            "name": approval.workflow.name if approval.workflow else None,
            "current_level": approval.current_level,
            "levels": levels,
        },
        "decision": {
            "status": approval.status,
            "decided_by": approval.decided_by.username if approval.decided_by else None,
            "decided_at": approval.decided_at,
            "notes": approval.notes,
            "reason": approval.reason,
        },
        "execution": {
            "status": approval.execution_status,
            "result": approval.execution_result,
            "executed_at": approval.executed_at,
        },
        "history": [
            {
                "event": entry.event,
                "label": entry.get_event_display(),
                "level": entry.level,
                "actor": entry.actor.username if entry.actor else None,
                "notes": entry.notes,
                "data": entry.data,
                "at": entry.created_at,
            }
            for entry in approval.history.select_related("actor")
        ],
        "can_decide": viewer_can_decide(approval, viewer),
    }


def _level_state(number: int, approval: Approval) -> str:
    if number > approval.current_level:
        return "upcoming"
    if number < approval.current_level or approval.status == Approval.Status.APPROVED:
        return "done"
    return "current" if approval.is_open else "closed"


def viewer_can_decide(approval: Approval, viewer: User) -> bool:
    return (
        approval.is_open
        and approval.requested_by_id != viewer.pk
        and viewer.has_perm("hitl.decide_approval", approval)
    )
