"""Action items: the pending approvals the reader may decide and the agents' recommendations,
each with a link to the console, ranked by priority and cut to the ones shown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.urls import NoReverseMatch, reverse

from accounts.models import User
from agents.backends.base import ProposedAction
from agents.backends.builtin.common import count, money
from agents.types import ActionType, AgentType
from channels_app.email.compose.data import TenantBriefData
from channels_app.email.compose.parts import ActionItem
from channels_app.email.compose.priority import approval_priority, at_least, recommendation_priority
from channels_app.email.models import PRIORITY_RANK, Priority, Section
from hitl.models import Approval, HoldReason
from hitl.selectors import approvals_awaiting, approvals_awaiting_each

APPROVALS_READ = 50
ACTIONS_SHOWN = 8


def _admin_url(base: str, name: str, pk: Any) -> str:
    try:
        return base + reverse(f"admin:{name}_change", args=[pk])
    except NoReverseMatch:
        return base + reverse("admin:index")


ACTION_TARGETS: dict[str, tuple[str, str, str]] = {
    ActionType.BUDGET_INCREASE: ("agents_campaign", "campaign_id", "Review budget"),
    ActionType.BUDGET_ALLOCATION: ("agents_campaign", "campaign_id", "Review budget"),
    ActionType.CAMPAIGN_PAUSE: ("agents_campaign", "campaign_id", "Review campaign"),
    ActionType.CAMPAIGN_RESUME: ("agents_campaign", "campaign_id", "Review campaign"),
    ActionType.CONTENT_PUBLISH: ("agents_contentitem", "content_id", "Review post"),
    ActionType.DATA_EXPORT: ("agents_audiencesegment", "segment_id", "Review segment"),
}
SECTION_OF_ACTION: dict[str, Section] = {
    ActionType.BUDGET_INCREASE: Section.PAID_ADS,
    ActionType.BUDGET_ALLOCATION: Section.PAID_ADS,
    ActionType.CAMPAIGN_PAUSE: Section.PAID_ADS,
    ActionType.CAMPAIGN_RESUME: Section.PAID_ADS,
    ActionType.CONTENT_PUBLISH: Section.CONTENT,
    ActionType.DATA_EXPORT: Section.AUDIENCE,
}


def _recommendation(action: ProposedAction, agent: str, base: str) -> ActionItem:
    target = ACTION_TARGETS.get(action.action_type)
    if target is None:
        url, label = base + reverse("admin:index"), "Open the console"
    else:
        name, key, label = target
        url = _admin_url(base, name, action.data.get(key))
    detail = []
    if action.estimated_cost:
        detail.append(f"est. {money(action.estimated_cost)} a month")
    if action.estimated_reach:
        detail.append(f"reach {count(action.estimated_reach)}")
    return ActionItem(
        priority=recommendation_priority(action),
        title=action.title,
        description=action.description,
        source="recommendation",
        agent=agent,
        url=url,
        label=label,
        detail=", ".join(detail),
    )


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "waiting under an hour"
    if hours < 48:
        return f"waiting {hours} h"
    return f"waiting {hours // 24} days"


APPROVAL_TITLES = {
    "held_reply": "Review a held reply",
    ActionType.BUDGET_INCREASE: "Approve a budget increase",
    ActionType.BUDGET_ALLOCATION: "Approve a budget allocation",
    ActionType.CAMPAIGN_PAUSE: "Approve pausing a campaign",
    ActionType.CAMPAIGN_RESUME: "Approve resuming a campaign",
    ActionType.CAMPAIGN_DELETE: "Approve deleting a campaign",
    ActionType.CONTENT_PUBLISH: "Approve publishing content",
    ActionType.DATA_EXPORT: "Approve a data export",
}


def _approval_item(approval: Approval, now: datetime, base: str) -> ActionItem:
    reasons = [
        str(HoldReason(r).label) for r in approval.hold_reasons or [] if r in HoldReason.values
    ]
    detail = [_age(now - approval.created_at)]
    if approval.estimated_cost:
        detail.append(f"est. {money(approval.estimated_cost)}")
    agent = (
        AgentType(approval.requested_by_agent).label
        if approval.requested_by_agent in AgentType.values
        else "Walker agents"
    )
    return ActionItem(
        priority=approval_priority(approval, now),
        title=APPROVAL_TITLES.get(approval.action_type, f"Approve: {approval.action_type}"),
        description="; ".join(reasons) + "." if reasons else "Waiting for your decision.",
        source="approval",
        agent=str(agent),
        url=_admin_url(base, "hitl_approval", approval.pk),
        label="Review and decide",
        detail=", ".join(detail),
    )


def user_approvals(user: User) -> tuple[list[Approval], int]:
    """The oldest pending approvals the user may decide, and how many there are in all."""
    queryset = approvals_awaiting(user).order_by("created_at", "id")
    shown = list(queryset[: APPROVALS_READ + 1])
    total = len(shown) if len(shown) <= APPROVALS_READ else queryset.count()
    return shown[:APPROVALS_READ], total


def readers_approvals(users: Sequence[User]) -> dict[int, tuple[list[Approval], int]]:
    """`user_approvals` for every reader of a batch at once: the same lists and totals."""
    return {
        user_id: (approvals[:APPROVALS_READ], len(approvals))
        for user_id, approvals in approvals_awaiting_each(users).items()
    }


def action_items(
    *,
    data: TenantBriefData,
    sections: set[str],
    approvals: list[Approval],
    approvals_total: int,
    minimum: str,
    now: datetime,
    base: str,
) -> tuple[list[ActionItem], int]:
    """Ranked by priority, then approvals before recommendations, then the oldest approval or the
    costliest recommendation first; what the minimum priority filters out is never counted."""
    items = [_approval_item(a, now, base) for a in approvals]
    for source, agent_type in (
        (data.paid_ads, AgentType.PAID_ADS),
        (data.content, AgentType.CONTENT),
        (data.audience, AgentType.AUDIENCE),
    ):
        if source is None:
            continue
        for action in source.proposals:
            if SECTION_OF_ACTION.get(action.action_type) in sections:
                items.append(_recommendation(action, str(agent_type.label), base))
    kept = [item for item in items if at_least(item.priority, minimum)]
    kept.sort(key=lambda item: (-PRIORITY_RANK[Priority(item.priority)], item.source != "approval"))
    # Approvals beyond those read are never low priority: counted unless the reader only wants
    # high or urgent items, which cannot be told apart without reading them.
    unread = approvals_total - len(approvals) if at_least(Priority.MEDIUM, minimum) else 0
    return kept[:ACTIONS_SHOWN], len(kept) - len(kept[:ACTIONS_SHOWN]) + unread
