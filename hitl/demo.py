"""The demo tenants' approvals: a live queue (pending, at every risk level, through the real
request path so workflows, permissions and notifications are set) and three weeks of decided
ones for the analytics. Idempotent: a tenant that has demo approvals gets none again."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from django.db import transaction

from accounts.models import Tenant, User
from accounts.roles import CFO, DIRECTOR_MARKETING, MARKETING_MANAGER, SUPER_ADMIN
from agents.models import AudienceSegment, Campaign, ContentItem
from hitl.models import Approval, ApprovalHistory
from hitl.risk import risk_assess
from hitl.services import approval_request

Progress = Callable[[str], None]
HISTORY_DAYS = 21
REJECTIONS = [
    "Budget is frozen until the quarter closes.",
    "The creative is not approved yet.",
    "Let's wait for the new landing page.",
]


class _Ask(TypedDict):
    """What the demo queue asks approval_request() for."""

    action_type: str
    title: str
    action_data: dict[str, Any]
    estimated_cost: Decimal
    estimated_reach: int
    requested_by_agent: str


def _queue(tenant: Tenant, requester: User | None) -> int:
    campaigns = list(Campaign.objects.for_tenant(tenant).filter(status="active")[:3])
    segment = AudienceSegment.objects.for_tenant(tenant).first()
    content = ContentItem.objects.for_tenant(tenant).filter(status="scheduled").first()
    asks: list[_Ask] = []
    for campaign, factor, cost, reach in zip(
        campaigns,
        (Decimal("1.5"), Decimal("3"), Decimal("1.2")),
        (Decimal("6000"), Decimal("32000"), Decimal("900")),
        (150_000, 1_500_000, 40_000),
        strict=False,
    ):
        new_budget = (campaign.daily_budget * factor).quantize(Decimal("1"))
        asks.append(
            {
                "action_type": "budget_increase",
                "title": f"Raise {campaign.name}'s daily budget to ${new_budget:,}",
                "action_data": {
                    "campaign_id": campaign.pk,
                    "platform": campaign.platform,
                    "current_daily_budget": str(campaign.daily_budget),
                    "new_daily_budget": str(new_budget),
                    "description": f"{campaign.name} beats its target ROAS and spends its "
                    "whole budget by mid-afternoon.",
                    "rationale": {"target_roas": str(campaign.target_roas)},
                },
                "estimated_cost": cost,
                "estimated_reach": reach,
                "requested_by_agent": "paid_ads_optimization",
            }
        )
    if segment is not None:
        asks.append(
            {
                "action_type": "data_export",
                "title": f"Export {segment.name} for a win-back campaign",
                "action_data": {"segment_id": segment.pk, "description": segment.description},
                "estimated_cost": Decimal("0"),
                "estimated_reach": 12_500,
                "requested_by_agent": "audience_intelligence",
            }
        )
    if content is not None:
        asks.append(
            {
                "action_type": "content_publish",
                "title": f"Publish '{content.title}' now",
                "action_data": {"content_id": content.pk, "channel": content.channel},
                "estimated_cost": Decimal("750"),
                "estimated_reach": 250_000,
                "requested_by_agent": "content_generation",
            }
        )
    for ask in asks:
        approval_request(tenant=tenant, requested_by=requester, **ask)
    return len(asks)


def _history(tenant: Tenant, requester: User | None, now: datetime) -> int:
    rng = random.Random(f"engarde-demo:hitl:{tenant.slug}")  # noqa: S311
    deciders = list(
        User.objects.filter(
            tenant=tenant,
            groups__name__in=[MARKETING_MANAGER, DIRECTOR_MARKETING, CFO, SUPER_ADMIN],
        ).distinct()
    )
    kinds = [
        ("budget_increase", "paid_ads_optimization", Decimal("1800"), 60_000),
        ("campaign_pause", "paid_ads_optimization", Decimal("0"), 220_000),
        ("content_publish", "content_generation", Decimal("0"), 35_000),
        ("data_export", "audience_intelligence", Decimal("0"), 9_000),
        ("held_reply", "seo_optimization", None, None),
    ]
    rows = 0
    for day in range(HISTORY_DAYS, 0, -1):
        for _ in range(rng.randint(1, 3)):
            action_type, agent, cost, reach = rng.choice(kinds)
            risk = risk_assess(action_type=action_type, estimated_cost=cost, estimated_reach=reach)
            created = now - timedelta(days=day, hours=rng.randint(0, 10))
            wait = timedelta(minutes=rng.choice([12, 35, 70, 110, 180, 400]))
            deadline = created + timedelta(hours=2)
            if risk.level == "low" and action_type not in ("data_export", "held_reply"):
                status, decided_by, wait = "auto_approved", None, timedelta(0)
            else:
                status = rng.choices(["approved", "rejected"], weights=[4, 1])[0]
                decided_by = rng.choice(deciders) if deciders else None
            decided = created + wait
            approval = Approval.objects.create(
                tenant=tenant,
                requested_by=requester if action_type != "held_reply" else None,
                requested_by_agent=agent,
                action_type=action_type,
                title=action_type.replace("_", " ").capitalize(),
                action_data={"demo": True},
                estimated_cost=cost,
                estimated_reach=reach,
                risk_score=risk.score,
                risk_level=risk.level,
                risk_factors=[factor.as_dict() for factor in risk.factors],
                status=status,
                decided_by=decided_by,
                decided_at=decided,
                reason=rng.choice(REJECTIONS) if status == "rejected" else "",
                sla_deadline=None if status == "auto_approved" else deadline,
                sla_breached=decided > deadline and status != "auto_approved",
                sla_breach_minutes=(
                    int((decided - deadline).total_seconds() // 60) if decided > deadline else None
                ),
                execution_status="succeeded" if status != "rejected" else "none",
                created_at=created,
            )
            ApprovalHistory.objects.bulk_create(
                [
                    ApprovalHistory(approval=approval, event="created", created_at=created),
                    ApprovalHistory(
                        approval=approval,
                        event=status,
                        level=1,
                        actor=decided_by,
                        notes=approval.reason,
                        created_at=decided,
                    ),
                ]
            )
            rows += 1
    return rows


@transaction.atomic
def demo_approvals_seed(
    *, tenant: Tenant, requester: User | None, now: datetime, progress: Progress
) -> Counter[str]:
    created: Counter[str] = Counter()
    if Approval.objects.for_tenant(tenant).filter(action_data__demo=True).exists():
        progress(f"Approvals for {tenant.slug} ... ok (kept)")
        return created
    created["decided approvals"] = _history(tenant, requester, now)
    created["open approvals"] = _queue(tenant, requester)
    progress(
        f"Approvals for {tenant.slug} ... ok ({created['open approvals']} open, "
        f"{created['decided approvals']} decided over {HISTORY_DAYS} days)"
    )
    return created
