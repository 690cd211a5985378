"""When a reply waits for a human instead of going out (DESIGN.md, "Decide"), and what the person
is told meanwhile.

The reply is held only for doubt about the answer itself: an agent error, low confidence, a
request for a human, manual mode, a human who took over. An action that needs approval holds
the action, not the answer: the reply goes out at once and says what awaits whom."""

from __future__ import annotations

from agents.backends.base import AgentResult
from agents.models import AgentSettings
from agents.router import RouteDecision
from agents.types import AgentMode
from channels_app.models import Conversation
from hitl.models import Approval, HoldReason


def hold_reasons(
    *,
    result: AgentResult,
    decision: RouteDecision,
    agent_settings: AgentSettings,
    conversation: Conversation,
) -> list[str]:
    reasons = []
    if not result.ok:
        reasons.append(HoldReason.AGENT_ERROR)
    else:
        if result.confidence < agent_settings.confidence_threshold:
            reasons.append(HoldReason.LOW_CONFIDENCE)
    if decision.needs_human:
        reasons.append(HoldReason.HUMAN_REQUESTED)
    if agent_settings.mode == AgentMode.MANUAL:
        reasons.append(HoldReason.MANUAL_MODE)
    if conversation.status == Conversation.Status.HUMAN:
        reasons.append(HoldReason.TAKEOVER)
    return [str(reason) for reason in reasons]


HOLDING_MESSAGES = {
    HoldReason.HUMAN_REQUESTED: (
        "I've asked someone from the team to join. They'll reply here shortly."
    ),
    HoldReason.AGENT_ERROR: (
        "Sorry, I couldn't get to your data just now. Someone from the team will follow up here."
    ),
}
DEFAULT_HOLDING = (
    "Thanks! I'd like a teammate to double-check this before I reply. You'll hear back here "
    "shortly."
)


def holding_message(reasons: list[str]) -> str | None:
    """What the person is told while a reply waits; nothing when a human already has the
    conversation (they are talking to a person)."""
    if HoldReason.TAKEOVER in reasons:
        return None
    for reason, text in HOLDING_MESSAGES.items():
        if reason in reasons:
            return text
    return DEFAULT_HOLDING


# How a role reads in a sentence to the person who asked.
ROLE_NAMES = {
    "super_admin": "an admin",
    "support_admin": "a support admin",
    "compliance_officer": "a compliance officer",
    "read_only_admin": "an admin",
    "marketing_manager": "a marketing manager",
    "director_marketing": "a marketing director",
    "cfo": "the CFO",
}


def approval_notice(approval: Approval) -> str:
    """What a reply says of an action that waits for a person: what, and who decides, level by
    level ("a marketing manager, then a marketing director or the CFO")."""
    who = _deciders(approval) or "an admin"
    if (approval.action_data or {}).get("requested"):
        return (
            f"⚠️ {approval.title} needs approval: I've sent it to {who} (pending in the "
            "approval queue) and I'll tell you here when it is decided."
        )
    return (
        f"💡 Suggestion: {approval.title}. Nothing changes unless it is approved: I've sent it "
        f"to {who} in the approval queue."
    )


def _deciders(approval: Approval) -> str:
    if approval.workflow is None:
        return ""
    levels = sorted(approval.workflow.levels.all(), key=lambda level: level.level)
    named = []
    for level in levels:
        roles = list(dict.fromkeys(ROLE_NAMES.get(str(r), str(r)) for r in level.approver_roles))
        if roles:
            named.append(" or ".join(roles))
    return ", then ".join(named)
