"""The default workflows every tenant starts with, and which workflow an approval follows."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Tenant
from accounts.roles import (
    CFO,
    COMPLIANCE_OFFICER,
    DIRECTOR_MARKETING,
    MARKETING_MANAGER,
    SUPER_ADMIN,
    SUPPORT_ADMIN,
)
from hitl.models import HELD_REPLY, ApprovalLevel, HITLWorkflow, RiskLevel

BOTH = ["email", "in_app"]

DEFAULT_WORKFLOWS: list[dict[str, Any]] = [
    {
        # The PRD's example, as written.
        "name": "Standard Budget Approval",
        "action_types": ["budget_increase", "budget_allocation"],
        "risk_levels": [RiskLevel.MEDIUM, RiskLevel.HIGH],
        "levels": [
            {"approver_roles": [MARKETING_MANAGER], "required_count": 1, "sla_hours": 2},
            {
                "approver_roles": [DIRECTOR_MARKETING, CFO],
                "required_count": 1,
                "sla_hours": 24,
            },
        ],
        "sla_hours": 24,
        "escalation_hours": 12,
        "notification_channels": BOTH,
    },
    {
        # A person is waiting for the reply: short deadlines, and the conversation's watchers.
        "name": "Content review (held replies)",
        "action_types": [HELD_REPLY],
        "risk_levels": [],
        "levels": [
            {"approver_roles": [SUPPORT_ADMIN, SUPER_ADMIN], "required_count": 1, "sla_hours": 2},
        ],
        "sla_hours": 4,
        "escalation_hours": 1,
        "notification_channels": ["in_app"],
    },
    {
        # The PRD's "executive approval + compliance review" for critical risk.
        "name": "Executive and compliance review (critical risk)",
        "action_types": [],
        "risk_levels": [RiskLevel.CRITICAL],
        "levels": [
            {"approver_roles": [DIRECTOR_MARKETING, CFO], "required_count": 1, "sla_hours": 8},
            {"approver_roles": [COMPLIANCE_OFFICER], "required_count": 1, "sla_hours": 24},
        ],
        "sla_hours": 48,
        "escalation_hours": 12,
        "notification_channels": BOTH,
    },
    {
        # Whatever no other workflow covers: one manager's approval.
        "name": "General review",
        "action_types": [],
        "risk_levels": [],
        "levels": [
            {
                "approver_roles": [MARKETING_MANAGER, SUPER_ADMIN],
                "required_count": 1,
                "sla_hours": 24,
            },
        ],
        "sla_hours": 48,
        "escalation_hours": 24,
        "notification_channels": BOTH,
    },
]


@transaction.atomic
def workflows_seed(tenant: Tenant) -> None:
    """Give the tenant the default workflows it lacks; its own edits are left alone."""
    for spec in DEFAULT_WORKFLOWS:
        fields = {key: value for key, value in spec.items() if key not in ("name", "levels")}
        workflow, created = HITLWorkflow.objects.get_or_create(
            tenant=tenant, name=spec["name"], defaults=fields
        )
        if created:
            ApprovalLevel.objects.bulk_create(
                ApprovalLevel(workflow=workflow, level=number, **level)
                for number, level in enumerate(spec["levels"], start=1)
            )


def _specificity(workflow: HITLWorkflow) -> tuple[int, int, int]:
    # An action-type match says more than a risk-level match; a shorter list says more than a
    # longer one; the older workflow breaks a tie.
    return (
        2 * bool(workflow.action_types) + bool(workflow.risk_levels),
        -(len(workflow.action_types) + len(workflow.risk_levels)),
        -workflow.pk,
    )


def workflow_match(*, tenant: Tenant, action_type: str, level: str) -> HITLWorkflow | None:
    candidates = [
        workflow
        for workflow in HITLWorkflow.objects.for_tenant(tenant)
        .filter(is_active=True)
        .prefetch_related("levels")
        if (not workflow.action_types or action_type in workflow.action_types)
        and (not workflow.risk_levels or level in workflow.risk_levels)
        and workflow.levels.all()
    ]
    return max(candidates, key=_specificity, default=None)
