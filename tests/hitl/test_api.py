"""The approvals API, as the approvers and the requester see it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from agents.models import Campaign, ContentItem
from channels_app.models import Message
from hitl.models import Approval, ApprovalHistory, ApprovalLevel, Notification
from hitl.services import approval_request
from tests.agents.factories import (
    AudienceSegmentFactory,
    ContentItemFactory,
    SegmentDayFactory,
)
from tests.hitl.conftest import Team

pytestmark = pytest.mark.django_db

BASE = "/api/v1/admin/hitl"


def approve(team: Team, who: str, approval: Approval, **body: str) -> object:
    return team.client(who).post(f"{BASE}/{approval.pk}/approve", body, format="json")


def events(approval: Approval) -> list[tuple[str, int | None, str | None]]:
    return [
        (entry.event, entry.level, entry.actor.username if entry.actor else None)
        for entry in approval.history.select_related("actor").order_by("created_at", "id")
    ]


def notices(team: Team) -> list[str]:
    return list(
        Message.objects.filter(conversation=team.conversation, sender_kind="system")
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_two_levels_with_two_approvals_at_the_first_then_the_budget_changes(
    team: Team, django_capture_on_commit_callbacks: object
) -> None:
    ApprovalLevel.objects.filter(
        workflow__tenant=team.tenant, workflow__name="Standard Budget Approval", level=1
    ).update(required_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        approval = team.budget_increase()
    assert (approval.status, approval.risk_level, approval.current_level) == (
        "pending",
        "medium",
        1,
    )
    # Both marketing managers were told, in the console and by email.
    assert {n.recipient.username for n in Notification.objects.all()} == {"manager", "manager2"}
    assert sorted(m.to[0] for m in mail.outbox) == ["manager2@acme.example", "manager@acme.example"]

    # Level 2's people cannot decide yet.
    assert approve(team, "director", approval).status_code == 403

    first = approve(team, "manager", approval, notes="Numbers look right.")
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["current_level"]) == ("pending", 1)
    again = approve(team, "manager", approval)
    assert again.status_code == 409 and again.json()["error"] == "already_voted"

    second = approve(team, "manager2", approval)
    assert (second.json()["status"], second.json()["current_level"]) == ("pending", 2)
    assert approve(team, "manager", approval).status_code == 403  # level 1 is over

    final = approve(team, "cfo", approval)
    assert final.status_code == 200, final.json()
    body = final.json()
    assert body["status"] == "approved" and body["execution_status"] == "succeeded"
    assert body["execution_result"]["daily_budget"] == "150.00"
    assert Campaign.objects.get(pk=team.campaign.pk).daily_budget == Decimal("150.00")
    assert events(Approval.objects.get(pk=approval.pk)) == [
        ("created", 1, None),
        ("notified", 1, None),
        ("approved", 1, "manager"),
        ("approved", 1, "manager2"),
        ("notified", 2, None),
        ("approved", 2, "cfo"),
        ("executed", None, None),
        ("requester_told", None, None),
    ]
    # The requester hears it on their conversation; the director can no longer decide.
    assert notices(team) == [f'Done: "{approval.title}" was approved and carried out.']
    assert approve(team, "director", approval).json()["error"] == "already_decided"


def test_a_reject_needs_a_reason_and_the_requester_gets_it(team: Team) -> None:
    approval = team.budget_increase()
    missing = team.client("manager").post(f"{BASE}/{approval.pk}/reject", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    blank = team.client("manager").post(
        f"{BASE}/{approval.pk}/reject", {"reason": "   "}, format="json"
    )
    assert blank.status_code == 400 and "reason" in blank.json()["fields"]
    assert Approval.objects.get(pk=approval.pk).status == "pending"

    rejected = team.client("manager").post(
        f"{BASE}/{approval.pk}/reject", {"reason": "Q4 budget is frozen."}, format="json"
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert notices(team) == [
        f'Your request "{approval.title}" was not approved: Q4 budget is frozen.'
    ]
    assert Campaign.objects.get(pk=team.campaign.pk).daily_budget == Decimal("100.00")
    twice = team.client("manager2").post(
        f"{BASE}/{approval.pk}/reject", {"reason": "No."}, format="json"
    )
    assert twice.status_code == 409 and twice.json()["error"] == "already_decided"


def test_escalate_to_the_next_level_then_to_a_person(team: Team) -> None:
    approval = team.budget_increase()
    client = team.client("manager")
    no_reason = client.post(f"{BASE}/{approval.pk}/escalate", {}, format="json")
    assert no_reason.status_code == 400

    up = client.post(f"{BASE}/{approval.pk}/escalate", {"reason": "Over my limit."}, format="json")
    assert up.status_code == 200, up.json()
    assert (up.json()["status"], up.json()["current_level"]) == ("escalated", 2)
    assert approve(team, "manager", approval).status_code == 403

    last = team.client("director").post(
        f"{BASE}/{approval.pk}/escalate", {"reason": "CFO call."}, format="json"
    )
    assert last.status_code == 400 and "escalate_to" in last.json()["fields"]
    outsider = team.client("director").post(
        f"{BASE}/{approval.pk}/escalate",
        {"reason": "Ask them.", "escalate_to": team.outsider.pk},
        format="json",
    )
    assert outsider.status_code == 400
    member = team.client("director").post(
        f"{BASE}/{approval.pk}/escalate",
        {"reason": "Ask them.", "escalate_to": team.requester.pk},
        format="json",
    )
    assert member.status_code == 400

    compliance = team.staff["compliance"]
    handed = team.client("director").post(
        f"{BASE}/{approval.pk}/escalate",
        {"reason": "Needs a compliance look.", "escalate_to": compliance.pk},
        format="json",
    )
    assert handed.status_code == 200 and handed.json()["assigned_to"] == "compliance"
    assert Notification.objects.filter(recipient=compliance, approval=approval).exists()
    assert approve(team, "compliance", approval).json()["status"] == "approved"
    assert [e for e in events(Approval.objects.get(pk=approval.pk)) if e[0] == "escalated"] == [
        ("escalated", 1, "manager"),
        ("escalated", 2, "director"),
    ]


def test_request_changes_sends_the_feedback_to_the_requester(team: Team) -> None:
    approval = team.budget_increase()
    answered = team.client("manager").post(
        f"{BASE}/{approval.pk}/request-changes",
        {"feedback": "Split it across two weeks."},
        format="json",
    )
    assert answered.status_code == 200 and answered.json()["status"] == "changes_requested"
    assert notices(team) == [
        f'Your request "{approval.title}" needs changes: Split it across two weeks.'
    ]


def test_nobody_decides_their_own_request(team: Team) -> None:
    approval = team.budget_increase(requested_by=team.staff["manager"])
    # The requester was never given the decision; the other manager was.
    refused = approve(team, "manager", approval)
    assert refused.status_code == 403 and "your own request" in refused.json()["detail"]
    assert approve(team, "manager2", approval).status_code == 200


def test_every_role_and_another_tenant(team: Team) -> None:
    approval = team.budget_increase()
    expected_queue = {
        "owner": 200,
        "support": 200,
        "compliance": 200,
        "readonly": 200,
        "manager": 200,
        "manager2": 200,
        "director": 200,
        "cfo": 200,
        "requester": 403,
    }
    for who, status in expected_queue.items():
        assert team.client(who).get(f"{BASE}/queue").status_code == status, who
    # Another tenant's super admin sees an empty queue and a 404 for the approval itself.
    outsider = team.client("outsider")
    assert outsider.get(f"{BASE}/queue").json()["results"] == []
    assert outsider.get(f"{BASE}/{approval.pk}").status_code == 404
    assert approve(team, "outsider", approval).status_code == 404

    # Level 1 of the budget workflow is the marketing managers' only.
    for who in ["owner", "support", "compliance", "readonly", "director", "cfo"]:
        response = approve(team, who, approval)
        assert response.status_code == 403, (who, response.json())
    assert approve(team, "requester", approval).status_code == 403
    assert Approval.objects.get(pk=approval.pk).votes.count() == 0
    assert approve(team, "manager", approval).status_code == 200


def test_queue_sorted_by_deadline_with_filters(team: Team) -> None:
    budget = team.budget_increase()  # level 1 SLA: 2 hours
    general = approval_request(  # the general review: 24 hours
        tenant=team.tenant,
        action_type="content_publish",
        title="Publish the launch post",
        estimated_reach=2_000_000,
        estimated_cost=Decimal("600"),
        requested_by=team.requester,
    )
    critical = team.budget_increase(cost="30000", estimated_reach=2_000_000)  # 40+30+20: 90
    client = team.client("owner")
    queue = client.get(f"{BASE}/queue").json()
    assert [row["id"] for row in queue["results"]] == [budget.pk, critical.pk, general.pk]
    assert queue["summary"]["pending"] == 3
    assert queue["results"][0]["sla_seconds_left"] > 7000
    assert [r["id"] for r in client.get(f"{BASE}/queue?risk_level=critical").json()["results"]] == [
        critical.pk
    ]
    assert [r["id"] for r in client.get(f"{BASE}/queue?priority=urgent").json()["results"]] == [
        critical.pk
    ]
    mine = team.client("manager").get(f"{BASE}/queue?assigned_to=me").json()["results"]
    assert {r["id"] for r in mine} == {budget.pk, general.pk}
    bad = client.get(f"{BASE}/queue?risk_level=severe&assigned_to=nobody")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"risk_level", "assigned_to"}
    paged = client.get(f"{BASE}/queue?limit=2").json()
    assert len(paged["results"]) == 2 and paged["next_offset"] == 2
    assert client.get(f"{BASE}/queue?offset=1000000").json()["results"] == []
    # Found by the fuzzer: an offset past a bigint reached PostgreSQL and answered 500.
    huge = client.get(f"{BASE}/queue?offset={2**63}")
    assert huge.status_code == 400 and set(huge.json()["fields"]) == {"offset"}


def test_detail_explains_the_decision(team: Team) -> None:
    approval = team.budget_increase()
    body = team.client("manager").get(f"{BASE}/{approval.pk}").json()
    explainer = body["explainer"]
    assert explainer["why"]["description"] == "ROAS 4.2x beats the 3.0x target."
    assert explainer["why"]["rationale"] == {"roas": "4.2", "target_roas": "3.0"}
    assert explainer["data"]["new_daily_budget"] == "150"
    assert [(f["factor"], f["points"]) for f in explainer["risk"]["factors"]] == [
        ("cost", "30"),
        ("reach", "0"),
        ("action_type", "20"),
        ("history", "0.00"),
    ]
    assert [lv["state"] for lv in explainer["workflow"]["levels"]] == ["current", "upcoming"]
    assert explainer["can_decide"] is True
    assert (
        team.client("cfo").get(f"{BASE}/{approval.pk}").json()["explainer"]["can_decide"] is False
    )


def test_low_risk_is_auto_approved_and_carried_out(
    team: Team, django_capture_on_commit_callbacks: object
) -> None:
    item = ContentItemFactory(tenant=team.tenant, status="scheduled")
    with django_capture_on_commit_callbacks(execute=True):
        approval = approval_request(
            tenant=team.tenant,
            action_type="content_publish",
            title=f"Publish '{item.title}' now",
            action_data={"content_id": item.pk},
            estimated_reach=50_000,
            requested_by=team.requester,
            conversation=team.conversation,
        )
    approval.refresh_from_db()
    assert (approval.status, approval.execution_status) == ("auto_approved", "succeeded")
    assert ContentItem.objects.get(pk=item.pk).status == "published"
    assert not Notification.objects.exists()
    assert [e[0] for e in events(approval)] == [
        "created",
        "auto_approved",
        "executed",
        "requester_told",
    ]


def test_a_failed_action_is_stored_and_told(team: Team) -> None:
    approval = team.budget_increase()
    Campaign.objects.filter(pk=team.campaign.pk).delete()
    approve(team, "manager", approval)
    body = approve(team, "cfo", approval).json()
    assert body["execution_status"] == "failed"
    assert body["execution_result"] == {"error": "The campaign no longer exists."}
    assert notices(team)[-1].endswith("could not be done: The campaign no longer exists.")
    assert ApprovalHistory.objects.filter(approval=approval, event="failed").exists()


def test_analytics(team: Team) -> None:
    approved = team.budget_increase()
    approve(team, "manager", approved)
    approve(team, "cfo", approved)
    rejected = team.budget_increase()
    team.client("manager").post(f"{BASE}/{rejected.pk}/reject", {"reason": "No"}, format="json")
    team.budget_increase()  # still open
    approval_request(tenant=team.tenant, action_type="campaign_pause", requested_by_agent="seo")
    body = team.client("owner").get(f"{BASE}/analytics?days=7").json()
    assert body["total"] == 4
    assert body["by_status"]["approved"] == 1 and body["by_status"]["rejected"] == 1
    assert body["by_status"]["pending"] == 1 and body["by_status"]["auto_approved"] == 1
    assert body["open_by_level"] == {"1": 1}
    assert body["time_to_decision_minutes"]["decided"] == 2
    assert body["sla"]["compliance_percent"] == 100.0 and body["sla"]["breaches"] == 0
    assert body["auto_approval_rate_percent"] == 25.0
    by_type = {row["action_type"]: row for row in body["by_action_type"]}
    assert by_type["budget_increase"]["total"] == 3
    assert by_type["budget_increase"]["approved"] == 1
    by_agent = {row["requested_by_agent"]: row["total"] for row in body["by_agent"]}
    assert by_agent == {"paid_ads_optimization": 3, "seo": 1}
    assert team.client("owner").get(f"{BASE}/analytics?days=0").status_code == 400


def test_an_approved_export_writes_the_file_and_in_app_only_workflows_send_no_email(
    team: Team, settings: object, tmp_path: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    segment = AudienceSegmentFactory(tenant=team.tenant, name="Lapsed runners")
    for day in range(3):
        SegmentDayFactory(segment=segment, date=f"2026-11-0{day + 1}")
    with django_capture_on_commit_callbacks(execute=True):
        approval = approval_request(
            tenant=team.tenant,
            action_type="data_export",
            title="Export Lapsed runners",
            action_data={"segment_id": segment.pk},
            estimated_reach=12_000,
            requested_by=team.requester,
        )
    # 10 + 20 = 30: low, but an export always waits for a person (the General review).
    assert (approval.risk_level, approval.status) == ("low", "pending")
    assert approval.workflow.name == "General review"
    assert sorted(m.to[0].split("@")[0] for m in mail.outbox) == ["manager", "manager2", "owner"]
    result = approve(team, "manager", approval).json()["execution_result"]
    assert result["rows"] == 3
    with default_storage.open(result["file"]) as exported:
        lines = exported.read().decode().splitlines()
    assert lines[0] == "segment,date,size,churn_risk,ltv" and len(lines) == 4
    assert lines[1].startswith("Lapsed runners,2026-11-01,")

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        held = approval_request(
            tenant=team.tenant, action_type="held_reply", hold_reasons=["low_confidence"]
        )
    # The content review notifies in the console only.
    assert held.workflow.notification_channels == ["in_app"] and mail.outbox == []
    assert {n.recipient.username for n in held.notifications.all()} == {"support", "owner"}


def openapi_validator(schema: dict[str, Any], component: str) -> Draft202012Validator:
    """A JSON Schema validator for one component of an OpenAPI 3.0 schema (its `nullable`
    becomes a null alternative, as JSON Schema spells it)."""

    def converted(node: Any) -> Any:
        if isinstance(node, list):
            return [converted(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: converted(value) for key, value in node.items()}
        return {"anyOf": [node, {"type": "null"}]} if node.pop("nullable", False) else node

    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": converted(schema["components"])}
    )


def test_an_approval_nobody_requested_assigned_or_routed_matches_the_schema(team: Team) -> None:
    approval = team.budget_increase()
    Approval.objects.filter(pk=approval.pk).update(
        requested_by=None, assigned_to=None, workflow=None
    )
    body = team.client("owner").get(f"{BASE}/{approval.pk}").json()

    assert (body["requested_by"], body["assigned_to"], body["workflow"]) == (None, None, None)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    approval_schema = schema["components"]["schemas"]["Approval"]["properties"]
    for field in ("requested_by", "assigned_to", "workflow"):
        assert approval_schema[field]["nullable"] is True, field
    errors = [
        error.message for error in openapi_validator(schema, "ApprovalDetail").iter_errors(body)
    ]
    assert not errors
