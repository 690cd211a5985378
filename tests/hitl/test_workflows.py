"""Every tenant gets the default workflows; the most specific active one applies."""

from __future__ import annotations

import pytest

from hitl.models import ApprovalLevel, HITLWorkflow
from hitl.workflows import DEFAULT_WORKFLOWS, workflow_match
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

BUDGET = "Standard Budget Approval"
CONTENT = "Content review (held replies)"
CRITICAL = "Executive and compliance review (critical risk)"
GENERAL = "General review"


def matched(tenant: object, action_type: str, level: str) -> str | None:
    workflow = workflow_match(tenant=tenant, action_type=action_type, level=level)
    return workflow.name if workflow else None


def test_a_new_tenant_gets_the_defaults_with_their_levels() -> None:
    tenant = TenantFactory()
    names = set(HITLWorkflow.objects.for_tenant(tenant).values_list("name", flat=True))
    assert names == {spec["name"] for spec in DEFAULT_WORKFLOWS}
    budget = HITLWorkflow.objects.get(tenant=tenant, name=BUDGET)
    assert [
        (lv.level, lv.approver_roles, lv.required_count, lv.sla_hours) for lv in budget.levels.all()
    ] == [
        (1, ["marketing_manager"], 1, 2),
        (2, ["director_marketing", "cfo"], 1, 24),
    ]
    assert (budget.sla_hours, budget.escalation_hours) == (24, 12)


@pytest.mark.parametrize(
    ("action_type", "level", "name"),
    [
        ("budget_increase", "medium", BUDGET),
        ("budget_allocation", "high", BUDGET),
        ("budget_increase", "critical", CRITICAL),  # the budget workflow stops at high
        ("budget_increase", "low", GENERAL),
        ("held_reply", "low", CONTENT),
        ("held_reply", "critical", CONTENT),  # an action type beats a risk level
        ("data_export", "critical", CRITICAL),
        ("content_publish", "medium", GENERAL),
    ],
)
def test_the_most_specific_workflow_wins(action_type: str, level: str, name: str) -> None:
    assert matched(TenantFactory(), action_type, level) == name


def test_a_tenants_own_narrower_workflow_beats_the_default() -> None:
    tenant = TenantFactory()
    mine = HITLWorkflow.objects.create(
        tenant=tenant,
        name="Big Meta budgets",
        action_types=["budget_increase"],
        risk_levels=["high"],
    )
    ApprovalLevel.objects.create(workflow=mine, level=1, approver_roles=["cfo"])
    assert matched(tenant, "budget_increase", "high") == "Big Meta budgets"
    assert matched(tenant, "budget_allocation", "high") == BUDGET
    # Switched off, or with no levels, it is not a candidate.
    mine.is_active = False
    mine.save()
    assert matched(tenant, "budget_increase", "high") == BUDGET


def test_another_tenants_workflows_never_apply() -> None:
    tenant, other = TenantFactory(), TenantFactory()
    HITLWorkflow.objects.filter(tenant=tenant).delete()
    theirs = HITLWorkflow.objects.create(tenant=other, name="Theirs", action_types=["x"])
    ApprovalLevel.objects.create(workflow=theirs, level=1, approver_roles=["cfo"])
    assert matched(tenant, "x", "low") is None
