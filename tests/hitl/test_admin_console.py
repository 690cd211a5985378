"""The approvals console: the queue, the approvers' landing, the explainer, the decisions posted
from it, each person's notifications and the workflows, through the real admin URLs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import MARKETING_MANAGER, SUPPORT_ADMIN
from agents.models import Campaign
from channels_app.models import Message
from hitl.models import Approval, HITLWorkflow, Notification
from hitl.services import approval_request
from tests.factories import MessageFactory, StaffFactory
from tests.hitl.conftest import Team

pytestmark = pytest.mark.django_db

QUEUE = "/admin/hitl/approval/"
NOTIFICATIONS = "/admin/hitl/notification/"


def login(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def as_(team: Team, who: str) -> Client:
    return login(team.staff.get(who, team.outsider))


def listed(response: Any) -> list[int]:
    assert response.status_code == 200
    return [approval.pk for approval in response.context["cl"].result_list]


def page(team: Team, who: str, approval: Approval) -> Any:
    response = as_(team, who).get(f"{QUEUE}{approval.pk}/change/")
    assert response.status_code == 200
    return response


def decide(team: Team, who: str, approval: Approval, verb: str, **fields: str) -> list[str]:
    """Post a decision form as the console does; the messages shown on the page it leads to."""
    response = as_(team, who).post(
        f"{QUEUE}{approval.pk}/decide/{verb}/",
        {f"{verb}-{name}": value for name, value in fields.items()},
        follow=True,
    )
    assert response.status_code == 200
    return [f"{m.level_tag}: {m}" for m in response.context["messages"]]


def fresh(approval: Approval) -> Approval:
    return Approval.objects.get(pk=approval.pk)


def badge(response: Any, title: str) -> str | None:
    for group in response.context["sidebar_navigation"]:
        for item in group["items"]:
            if item["title"] == title:
                return str(item["badge_callback"]) if "badge_callback" in item else None
    raise AssertionError(f"no {title} in the sidebar")


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_lists_the_tenants_open_approvals_soonest_deadline_first(team: Team) -> None:
    now = timezone.now()
    later = team.budget_increase(title="Later")
    sooner = team.budget_increase(title="Sooner")
    overdue = team.budget_increase(title="Overdue")
    no_deadline = team.budget_increase(title="No deadline")
    decided = team.budget_increase(title="Decided")
    Approval.objects.filter(pk=later.pk).update(sla_deadline=now + timedelta(hours=20))
    Approval.objects.filter(pk=sooner.pk).update(
        sla_deadline=now + timedelta(hours=1, minutes=45, seconds=30)
    )
    Approval.objects.filter(pk=overdue.pk).update(
        sla_deadline=now - timedelta(minutes=12, seconds=30)
    )
    Approval.objects.filter(pk=no_deadline.pk).update(sla_deadline=None)
    Approval.objects.filter(pk=decided.pk).update(status="rejected")
    globex = approval_request(
        tenant=team.outsider.tenant,
        action_type="campaign_pause",
        title="Globex pause",
        estimated_cost=Decimal("6000"),
        estimated_reach=20_000,
    )

    response = as_(team, "owner").get(QUEUE)
    assert listed(response) == [overdue.pk, sooner.pk, later.pk, no_deadline.pk]
    html = response.content.decode()
    assert "1h 45m left" in html and "overdue 12m" in html and "19h 59m left" in html
    assert "medium 50/100" in html and "1/2" in html and "Paid Ads Marketing Agent" in html
    # The action type filter offers the tenant's own types only.
    assert "Budget increase" in html and "Pause campaign" not in html
    assert "Globex pause" not in html
    assert response.context["queue_summary"]["pending"] == 4
    assert response.context["queue_summary"]["overdue"] == 1

    everything = as_(team, "owner").get(f"{QUEUE}?status=all")
    assert set(listed(everything)) == {later.pk, sooner.pk, overdue.pk, no_deadline.pk, decided.pk}
    assert listed(as_(team, "owner").get(f"{QUEUE}?status=rejected")) == [decided.pk]
    assert listed(as_(team, "owner").get(f"{QUEUE}?risk_level=high")) == []
    counted = as_(team, "owner").get(f"{QUEUE}?_facets=1").content.decode()
    assert "Open (pending or escalated) (4)" in counted and "Rejected (1)" in counted
    assert listed(as_(team, "outsider").get(QUEUE)) == [globex.pk]


def test_awaiting_me_lists_what_the_user_may_decide_now(team: Team) -> None:
    budget = team.budget_increase()
    general = approval_request(
        tenant=team.tenant,
        action_type="content_publish",
        title="Publish the launch post",
        estimated_cost=Decimal("600"),
        estimated_reach=2_000_000,
    )
    assert set(listed(as_(team, "manager").get(f"{QUEUE}?awaiting=me"))) == {
        budget.pk,
        general.pk,
    }
    # Level 2's people see the queue but nothing awaits them yet.
    assert listed(as_(team, "director").get(f"{QUEUE}?awaiting=me")) == []
    assert set(listed(as_(team, "director").get(QUEUE))) == {budget.pk, general.pk}
    decide(team, "manager", budget, "approve")
    assert listed(as_(team, "director").get(f"{QUEUE}?awaiting=me")) == [budget.pk]
    assert listed(as_(team, "manager").get(f"{QUEUE}?awaiting=me")) == [general.pk]


def test_business_roles_land_on_what_awaits_them(team: Team) -> None:
    for who in ["manager", "director", "cfo"]:
        response = as_(team, who).get("/admin/")
        assert response.status_code == 302, who
        assert response["Location"] == f"{QUEUE}?awaiting=me"
    for who in ["owner", "support", "readonly"]:
        assert as_(team, who).get("/admin/").status_code == 200, who
    both = StaffFactory(tenant=team.tenant, roles=[MARKETING_MANAGER, SUPPORT_ADMIN])
    assert login(both).get("/admin/").status_code == 200


def test_the_sidebar_counts_what_awaits_and_what_is_unread(team: Team) -> None:
    team.budget_increase()
    team.budget_increase()
    manager = as_(team, "manager").get(QUEUE)
    assert badge(manager, "Approval queue") == "2"
    assert badge(manager, "Notifications") == "2"
    director = as_(team, "director").get(QUEUE)
    assert badge(director, "Approval queue") is None
    assert badge(director, "Notifications") is None
    # The other apps are still listed, without the approvals twice.
    titles = [
        item["title"] for group in manager.context["sidebar_navigation"] for item in group["items"]
    ]
    assert titles.count("Approval queue") == 1 and "Approvals" not in titles
    assert "Campaigns" in titles


# --- the detail page ------------------------------------------------------------------------


def test_the_detail_page_explains_the_proposal(team: Team) -> None:
    approval = team.budget_increase()
    html = page(team, "manager", approval).content.decode()
    for text in [
        "Why the agent proposed it",
        "Paid Ads Marketing Agent",
        "ROAS 4.2x beats the 3.0x target.",
        "Target ROAS",
        "New daily budget",
        "$6,000.00",
        "Risk breakdown",
        "estimated cost $6,000.00",
        "budget_increase is a high-risk action",
        "50/100",
        "Medium risk",
        "Standard Budget Approval",
        "marketing manager",
        "director marketing, cfo",
        "Deciding now",
        "Approvers notified",
        'id="decide-approve"',
        'id="decide-reject"',
        'id="decide-escalate"',
        'id="decide-request-changes"',
    ]:
        assert text in html, text
    explainer = page(team, "manager", approval).context["layout"]["risk_table"]["rows"]
    assert explainer == [
        ["Cost", "30", "estimated cost $6,000.00"],
        ["Reach", "0", "estimated reach unknown"],
        ["Action type", "20", "budget_increase is a high-risk action"],
        ["History", "0", "0% of the requester's past requests were rejected"],
        ["Total", "50/100", "Medium risk"],
    ]
    # Level 2's approvers read it but have nothing to decide yet.
    director = page(team, "director", approval).content.decode()
    assert "Risk breakdown" in director and 'id="decide-approve"' not in director
    assert "you are not one of them now" in director


def test_what_people_wrote_is_escaped(team: Team) -> None:
    approval = team.budget_increase(
        title="<script>alert('t')</script>",
        action_data={
            "campaign_id": team.campaign.pk,
            "new_daily_budget": "150",
            "description": "<img src=x onerror=alert(1)>",
            "rationale": {"<b>roas</b>": "<i>4</i>"},
        },
    )
    decide(team, "manager", approval, "reject", reason="<a href='//evil'>no</a>")
    html = page(team, "owner", approval).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<i>4</i>" not in html and "&lt;i&gt;4&lt;/i&gt;" in html
    assert "<a href='//evil'>" not in html and "&lt;a href=&#x27;//evil&#x27;&gt;no" in html
    queue = as_(team, "owner").get(f"{QUEUE}?status=all").content.decode()
    assert "<script>alert" not in queue


# --- deciding -------------------------------------------------------------------------------


def test_approving_level_by_level_changes_the_budget(team: Team) -> None:
    approval = team.budget_increase()
    assert decide(team, "manager", approval, "approve", notes="Numbers look right.") == [
        "success: Approved at level 1: it now waits for level 2."
    ]
    approval = fresh(approval)
    assert (approval.status, approval.current_level) == ("pending", 2)
    assert decide(team, "manager", approval, "approve") == [
        "error: You may not decide this approval at its current level."
    ]
    assert decide(team, "cfo", approval, "approve") == ["success: Approved and carried out."]
    approval = fresh(approval)
    assert (approval.status, approval.execution_status) == ("approved", "succeeded")
    assert Campaign.objects.get(pk=team.campaign.pk).daily_budget == Decimal("150.00")
    html = page(team, "manager", approval).content.decode()
    assert "there is nothing left to decide" in html and 'id="decide-approve"' not in html
    assert "Numbers look right." in html and "Previous daily budget" in html
    assert [
        level["approved_by"] for level in page(team, "owner", approval).context["layout"]["levels"]
    ] == [
        ["manager"],
        ["cfo"],
    ]


def test_a_reject_needs_a_reason(team: Team) -> None:
    approval = team.budget_increase()
    assert decide(team, "manager", approval, "reject", reason="  ") == [
        "error: Say why it is rejected: the requester is told."
    ]
    assert fresh(approval).status == "pending"
    assert decide(team, "manager", approval, "reject", reason="Q4 budget is frozen.") == [
        "success: Rejected: the requester is told why."
    ]
    approval = fresh(approval)
    assert (approval.status, approval.reason) == ("rejected", "Q4 budget is frozen.")
    assert decide(team, "manager2", approval, "reject", reason="No.") == [
        "error: This approval is already rejected."
    ]
    assert Campaign.objects.get(pk=team.campaign.pk).daily_budget == Decimal("100.00")


def test_escalate_to_the_next_level_then_to_a_person(team: Team) -> None:
    approval = team.budget_increase()
    form = page(team, "manager", approval).context["decision_forms"][2]
    assert form.fields["escalate_to"].empty_label == "The next level"
    assert decide(team, "manager", approval, "escalate") == ["error: Say why it is escalated."]
    assert decide(team, "manager", approval, "escalate", reason="Over my limit.") == [
        "success: Escalated to level 2."
    ]
    assert (fresh(approval).status, fresh(approval).current_level) == ("escalated", 2)
    assert decide(team, "director", approval, "escalate", reason="CFO call.") == [
        "error: This is the last level: name the person to escalate to."
    ]
    # Only the tenant's approvers are offered (and accepted).
    form = page(team, "director", approval).context["decision_forms"][2]
    assert form.fields["escalate_to"].empty_label.startswith("Choose a person")
    offered = {user.username for user in form.fields["escalate_to"].queryset}
    assert offered == {"owner", "support", "compliance", "readonly", "manager", "manager2", "cfo"}
    assert decide(
        team, "director", approval, "escalate", reason="x", escalate_to=str(team.outsider.pk)
    ) == ["error: To: Select a valid choice. That choice is not one of the available choices."]
    compliance = team.staff["compliance"]
    assert decide(
        team,
        "director",
        approval,
        "escalate",
        reason="Needs a compliance look.",
        escalate_to=str(compliance.pk),
    ) == ["success: Escalated to compliance."]
    approval = fresh(approval)
    assert approval.assigned_to == compliance
    assert listed(as_(team, "compliance").get(f"{QUEUE}?awaiting=me")) == [approval.pk]
    assert "Escalated to" in page(team, "compliance", approval).content.decode()


def test_request_changes(team: Team) -> None:
    approval = team.budget_increase()
    assert decide(team, "manager", approval, "request-changes") == [
        "error: Say what should change."
    ]
    assert decide(
        team, "manager", approval, "request-changes", feedback="Split it across two weeks."
    ) == ["success: Changes requested: the requester is told what to change."]
    approval = fresh(approval)
    assert (approval.status, approval.reason) == ("changes_requested", "Split it across two weeks.")


def test_without_permission_an_error_never_a_change(team: Team) -> None:
    approval = team.budget_increase()
    for who in ["owner", "support", "compliance", "readonly", "director", "cfo"]:
        assert decide(team, who, approval, "approve") == [
            "error: You may not decide this approval at its current level."
        ], who
        assert decide(team, who, approval, "reject", reason="No.") == [
            "error: You may not decide this approval at its current level."
        ], who
    # Another tenant's admin cannot even find it.
    outsider = as_(team, "outsider").post(f"{QUEUE}{approval.pk}/decide/approve/", follow=True)
    assert outsider.redirect_chain[-1][0] == QUEUE
    assert [str(m) for m in outsider.context["messages"]] == ["No such approval."]
    # A requester is no staff member: the console sends them to log in.
    requester = login(team.requester).post(f"{QUEUE}{approval.pk}/decide/approve/")
    assert requester.status_code == 302 and "/admin/login/" in requester["Location"]
    # POST only, with the CSRF token, and only the four decisions.
    assert as_(team, "manager").get(f"{QUEUE}{approval.pk}/decide/approve/").status_code == 405
    strict = login(team.staff["manager"], enforce_csrf_checks=True)
    assert strict.post(f"{QUEUE}{approval.pk}/decide/approve/").status_code == 403
    assert as_(team, "manager").post(f"{QUEUE}{approval.pk}/decide/delete/").status_code == 404
    approval = fresh(approval)
    assert (approval.status, approval.current_level, approval.votes.count()) == ("pending", 1, 0)


def test_nobody_decides_their_own_request_in_the_console(team: Team) -> None:
    approval = team.budget_increase(requested_by=team.staff["manager"])
    html = page(team, "manager", approval).content.decode()
    assert 'id="decide-approve"' not in html and "someone else decides" in html
    assert decide(team, "manager", approval, "approve") == [
        "error: You cannot decide your own request."
    ]


def held_reply(team: Team, body: str) -> Approval:
    question = MessageFactory(conversation=team.conversation, body="Can I get a refund?")
    reply = MessageFactory(
        conversation=team.conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        agent_type="paid_ads_optimization",
        body=body,
        confidence=0.31,
        delivery_status=Message.DeliveryStatus.HELD,
        reply_to=question,
    )
    return approval_request(
        tenant=team.tenant,
        action_type="held_reply",
        title="Held reply: confidence under the tenant's threshold",
        hold_reasons=["low_confidence"],
        conversation=team.conversation,
        message=reply,
        requested_by_agent="paid_ads_optimization",
    )


def test_a_held_reply_is_approved_with_the_approvers_edit(team: Team) -> None:
    approval = held_reply(team, "Refunds take 5 days.")
    response = page(team, "support", approval)
    html = response.content.decode()
    assert "Can I get a refund?" in html and "Confidence under the tenant" in html
    assert 'id="decide-request-changes"' not in html
    approve_form = response.context["decision_forms"][0]
    assert approve_form["reply"].value() == "Refunds take 5 days."

    edited = "Refunds take 5 working days;\r\nI have asked a teammate to start yours."
    # Sending it is the channel's business (and its outcome is shown either way).
    [outcome] = decide(team, "support", approval, "approve", reply=edited)
    assert outcome.startswith(("success: Approved", "warning: Approved, but")), outcome
    approval = fresh(approval)
    assert approval.status == "approved"
    reply = Message.objects.get(pk=approval.message_id)
    assert reply.body == edited and reply.metadata["edited_by"] == team.staff["support"].pk


def test_an_unchanged_held_reply_is_sent_as_written(team: Team) -> None:
    approval = held_reply(team, "Refunds take 5 days.")
    decide(team, "owner", approval, "approve", reply="Refunds take 5 days.\r\n")
    reply = Message.objects.get(pk=fresh(approval).message_id)
    assert reply.body == "Refunds take 5 days." and "edited_by" not in reply.metadata


def test_a_reply_shown_masked_cannot_be_edited(team: Team) -> None:
    approval = held_reply(team, "Call us on +14155550123 for the refund.")
    support = page(team, "support", approval)
    assert "+1-***-***-0123" in support.content.decode()
    assert "+14155550123" not in support.content.decode()
    assert "reply" not in support.context["decision_forms"][0].fields
    # A crafted edit is ignored: the masked text never replaces the real one.
    decide(team, "support", approval, "approve", reply="Call us on +1-***-***-0123.")
    reply = Message.objects.get(pk=fresh(approval).message_id)
    assert reply.body == "Call us on +14155550123 for the refund."
    # Replies are masked for every role here, super admins included: none edits one with
    # personal data in it (one without is editable: the test above).
    other = held_reply(team, "Call us on +14155550123.")
    owner = page(team, "owner", other)
    assert "+14155550123" not in owner.content.decode()
    assert "reply" not in owner.context["decision_forms"][0].fields


# --- notifications --------------------------------------------------------------------------


def test_notifications_are_each_persons_own(team: Team) -> None:
    approval = team.budget_increase()
    mine = Notification.objects.get(recipient=team.staff["manager"])
    theirs = Notification.objects.get(recipient=team.staff["manager2"])
    client = as_(team, "manager")
    response = client.get(NOTIFICATIONS)
    assert [n.pk for n in response.context["cl"].result_list] == [mine.pk]
    assert "Notifications (1 unread)" in response.content.decode()
    assert client.get(f"{NOTIFICATIONS}{theirs.pk}/change/").status_code == 302
    assert client.get(f"{NOTIFICATIONS}{theirs.pk}/open/").status_code == 302
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    # Nobody else's, not even a platform operator's view of them.
    root = User.objects.create_superuser("root", password="x" * 12)
    assert list(login(root).get(NOTIFICATIONS).context["cl"].result_list) == []

    # Opening one reads it and goes to its approval.
    opened = client.get(f"{NOTIFICATIONS}{mine.pk}/open/")
    assert opened["Location"] == reverse("admin:hitl_approval_change", args=[approval.pk])
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert badge(client.get(QUEUE), "Notifications") is None


def test_mark_as_read_touches_only_ones_own(team: Team) -> None:
    team.budget_increase()
    team.budget_increase()
    mine = list(Notification.objects.filter(recipient=team.staff["manager"]))
    theirs = Notification.objects.filter(recipient=team.staff["manager2"]).first()
    client = as_(team, "manager")
    assert badge(client.get(QUEUE), "Notifications") == "2"
    response = client.post(
        NOTIFICATIONS,
        {"action": "mark_read", "_selected_action": [mine[0].pk, theirs.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["1 notification marked as read."]
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert badge(client.get(QUEUE), "Notifications") == "1"
    # Unread first.
    listed_ids = [n.pk for n in client.get(NOTIFICATIONS).context["cl"].result_list]
    assert listed_ids == [mine[1].pk, mine[0].pk]


# --- workflows ------------------------------------------------------------------------------


def workflow_post(client: Client, url: str, levels: list[dict[str, Any]], **fields: Any) -> Any:
    data: dict[str, Any] = {
        "name": "Big spend",
        "is_active": "on",
        "action_types": '["budget_increase"]',
        "risk_levels": ["high"],
        "sla_hours": "24",
        "escalation_hours": "12",
        "notification_channels": ["in_app"],
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": "0",
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, level in enumerate(levels):
        for key, value in level.items():
            data[f"levels-{index}-{key}"] = value
    return client.post(url, data)


def test_the_workflow_admin_refuses_unknown_roles_and_bad_lists(team: Team) -> None:
    client = as_(team, "owner")
    add = reverse("admin:hitl_hitlworkflow_add")
    assert client.get(add).context["inline_admin_formsets"][0].formset.prefix == "levels"
    before = HITLWorkflow.objects.count()

    unknown_role = workflow_post(
        client,
        add,
        [{"level": "1", "approver_roles": ["ceo"], "required_count": "1", "sla_hours": "4"}],
    )
    assert unknown_role.status_code == 200
    level_errors = unknown_role.context["inline_admin_formsets"][0].formset.errors[0]
    assert "approver_roles" in level_errors

    not_a_list = workflow_post(
        client,
        add,
        [{"level": "1", "approver_roles": ["cfo"], "required_count": "1", "sla_hours": "4"}],
        action_types='"budget_increase"',
    )
    assert not_a_list.status_code == 200
    assert "action_types" in not_a_list.context["adminform"].form.errors
    assert HITLWorkflow.objects.count() == before

    saved = workflow_post(
        client,
        add,
        [
            {"level": "1", "approver_roles": ["cfo"], "required_count": "1", "sla_hours": "4"},
            {
                "level": "2",
                "approver_roles": ["director_marketing", "super_admin"],
                "required_count": "2",
                "sla_hours": "8",
            },
        ],
    )
    assert saved.status_code == 302, saved.context and saved.context["adminform"].form.errors
    workflow = HITLWorkflow.objects.get(name="Big spend")
    assert workflow.tenant == team.tenant
    assert (workflow.risk_levels, workflow.notification_channels) == (["high"], ["in_app"])
    assert list(workflow.levels.values_list("level", "approver_roles", "required_count")) == [
        (1, ["cfo"], 1),
        (2, ["director_marketing", "super_admin"], 2),
    ]


def test_only_settings_roles_change_workflows(team: Team) -> None:
    workflow = HITLWorkflow.objects.for_tenant(team.tenant).first()
    url = reverse("admin:hitl_hitlworkflow_change", args=[workflow.pk])
    assert as_(team, "owner").get(url).status_code == 200
    assert as_(team, "manager").get(url).status_code == 403
    readonly = as_(team, "readonly").get(url)
    assert readonly.status_code == 200 and not readonly.context["has_change_permission"]
    foreign = HITLWorkflow.objects.for_tenant(team.outsider.tenant).first()
    foreign_url = reverse("admin:hitl_hitlworkflow_change", args=[foreign.pk])
    assert as_(team, "owner").get(foreign_url).status_code == 302
