"""When a reply waits for a human instead of going out (DESIGN.md, "Decide")."""

from __future__ import annotations

from accounts.models import User
from agents.backends.base import AgentResult, ProposedAction
from agents.models import AgentSettings
from agents.router import RouteDecision
from agents.types import AgentMode
from channels_app.models import Conversation
from hitl.models import HoldReason
from hitl.risk import auto_approvable, rejection_share, risk_assess


def actions_needing_approval(
    actions: tuple[ProposedAction, ...], mode: str, requester: User | None = None
) -> list[ProposedAction]:
    """The actions a person must approve: hitl's risk score and the tenant's mode decide (the
    rest are auto-approved and carried out)."""
    if not actions:
        return []
    share = rejection_share(requester)
    return [
        action
        for action in actions
        if not auto_approvable(
            action_type=action.action_type,
            level=risk_assess(
                action_type=action.action_type,
                estimated_cost=action.estimated_cost,
                estimated_reach=action.estimated_reach,
                requester_rejection_share=share,
            ).level,
            mode=mode,
        )
    ]


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
        if actions_needing_approval(result.actions, agent_settings.mode, conversation.user):
            reasons.append(HoldReason.ACTION)
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
