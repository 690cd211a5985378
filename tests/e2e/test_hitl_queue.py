"""An approver in a real browser: lands on the queue, reads the decision explainer, approves; the
next level's approver finishes it and the campaign's budget changes."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.roles import CFO, MARKETING_MANAGER, MEMBER, SUPER_ADMIN
from agents.models import Campaign
from hitl.models import Approval, HITLWorkflow
from hitl.services import approval_request
from tests.agents.factories import CampaignFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, ConversationFactory, StaffFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue() -> dict[str, Any]:
    acme = TenantFactory(slug="acme", name="Acme")
    globex = TenantFactory(slug="globex", name="Globex")
    StaffFactory(tenant=acme, username="manager", roles=[MARKETING_MANAGER])
    StaffFactory(tenant=acme, username="cfo", roles=[CFO])
    maya = UserFactory(tenant=acme, username="maya", roles=[MEMBER])
    conversation = ConversationFactory(tenant=acme, user=maya, channel="chat")
    campaign = CampaignFactory(tenant=acme, name="Spring Sale", daily_budget=Decimal("100.00"))
    budget = approval_request(
        tenant=acme,
        action_type="budget_increase",
        title="Raise Spring Sale's daily budget to $150",
        action_data={
            "campaign_id": campaign.pk,
            "platform": "meta",
            "current_daily_budget": "100.00",
            "new_daily_budget": "150",
            "description": (
                "Raise Spring Sale's daily budget from $100 to $150: its ROAS of 4.2x beats "
                "the 3.0x target and it used 96% of its budget."
            ),
            "rationale": {"roas": "4.2", "target_roas": "3.0", "budget_used_percent": "96"},
        },
        estimated_cost=Decimal("6000"),
        requested_by=maya,
        requested_by_agent="paid_ads_optimization",
        conversation=conversation,
    )
    publish = approval_request(
        tenant=acme,
        action_type="content_publish",
        title="Publish the spring launch post",
        estimated_cost=Decimal("600"),
        estimated_reach=2_000_000,
        requested_by_agent="content_generation",
    )
    # One already late, so the queue shows both kinds of time left.
    Approval.objects.filter(pk=publish.pk).update(
        sla_deadline=timezone.now() - timedelta(minutes=12, seconds=30)
    )
    approval_request(
        tenant=globex,
        action_type="campaign_pause",
        title="Globex: pause the winter campaign",
        estimated_cost=Decimal("6000"),
        estimated_reach=20_000,
    )
    return {"budget": budget, "publish": publish, "campaign": campaign}


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # Business roles land on what awaits them.
    page.wait_for_url(f"{base}/admin/hitl/approval/?awaiting=me")


def open_approval(page: Any, approval: Approval) -> None:
    page.locator("#result_list").get_by_role("link", name=approval.title).click()
    page.wait_for_url(re.compile(rf"/admin/hitl/approval/{approval.pk}/change/(\?.*)?$"))


def test_an_approver_reads_the_explainer_and_approves(
    page: Any, browser: Any, live_server: Any, queue: dict[str, Any]
) -> None:
    base = live_server.url
    budget, publish = queue["budget"], queue["publish"]
    log_in(page, base, "manager")

    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2  # acme's; globex's is not listed
    # Soonest deadline first: the overdue one, then the budget's 2 hours.
    assert publish.title in rows.nth(0).inner_text()
    # Labels are shown in capitals.
    assert "overdue 12m" in rows.nth(0).inner_text().lower()
    first = rows.nth(1).inner_text()
    assert budget.title in first and "medium 50/100" in first.lower() and "left" in first.lower()
    assert "Globex" not in page.locator("#result_list").inner_text()
    sidebar = page.locator("#nav-sidebar-apps").inner_text()
    assert "Approval queue" in sidebar and "Notifications" in sidebar
    screenshot(page, "hitl-queue")

    open_approval(page, budget)
    risk = page.locator("#explainer-risk").inner_text()
    for text in ["Cost", "estimated cost $6,000.00", "Action type", "Total", "50/100", "Medium"]:
        assert text in risk, text
    rationale = page.locator("#explainer-rationale").inner_text()
    assert "ROAS" in rationale and "4.2" in rationale and "Budget used percent" in rationale
    assert "beats the 3.0x target" in page.locator("#explainer-description").inner_text()
    assert page.locator("#explainer-workflow [data-level='1'][data-state='current']").count() == 1
    screenshot(page, "hitl-explainer")

    page.fill("#decide-approve textarea[name='approve-notes']", "Numbers look right.")
    page.locator("#decide-approve button[type=submit]").click()
    page.wait_for_url(f"**/admin/hitl/approval/{budget.pk}/change/")
    assert "Approved at level 1: it now waits for level 2." in page.locator("body").inner_text()
    level_one = page.locator("#explainer-workflow [data-level='1']")
    assert level_one.get_attribute("data-state") == "done" and "manager" in level_one.inner_text()
    assert page.locator("#explainer-workflow [data-level='2']").get_attribute("data-state") == (
        "current"
    )
    assert page.locator("#decide-approve").count() == 0
    screenshot(page, "hitl-approved-level-1")

    # The manager's notifications: opening one reads it and goes to its approval.
    page.locator("#nav-sidebar-apps").get_by_role("link", name="Notifications").click()
    page.wait_for_url(f"{base}/admin/hitl/notification/")
    notices = page.locator("#result_list tbody tr")
    assert notices.count() == 2
    assert page.title().startswith("Notifications (2 unread)")
    screenshot(page, "hitl-notifications")
    notices.filter(has_text=publish.title).get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/admin/hitl/approval/{publish.pk}/change/$"))
    assert "Publish the spring launch post" in page.locator("#approval-title").inner_text()

    # The CFO, at level 2, finishes it; the budget changes.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    cfo = context.new_page()
    cfo.set_default_timeout(15_000)
    try:
        log_in(cfo, base, "cfo")
        assert cfo.locator("#result_list tbody tr").count() == 1
        open_approval(cfo, budget)
        cfo.locator("#decide-approve button[type=submit]").click()
        cfo.wait_for_url(f"**/admin/hitl/approval/{budget.pk}/change/")
        body = cfo.locator("body").inner_text()
        assert "Approved and carried out." in body
        outcome = cfo.locator("#explainer-outcome").inner_text()
        assert "Done" in outcome and "150.00" in outcome and "100.00" in outcome
        screenshot(cfo, "hitl-approved-final")
    finally:
        context.close()
    assert Campaign.objects.get(pk=queue["campaign"].pk).daily_budget == Decimal("150.00")
    assert Approval.objects.get(pk=budget.pk).status == "approved"


def test_a_super_admin_changes_who_approves(page: Any, live_server: Any) -> None:
    acme = TenantFactory(slug="acme", name="Acme")
    StaffFactory(tenant=acme, username="owner", roles=[SUPER_ADMIN])
    workflow = HITLWorkflow.objects.get(tenant=acme, name="Standard Budget Approval")
    base = live_server.url
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")  # a console role keeps the index

    page.goto(f"{base}/admin/hitl/hitlworkflow/{workflow.pk}/change/")
    page.check("input[name='levels-0-approver_roles'][value='cfo']")
    screenshot(page, "hitl-workflow")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{base}/admin/hitl/hitlworkflow/")
    assert list(workflow.levels.values_list("level", "approver_roles")) == [
        (1, ["marketing_manager", "cfo"]),
        (2, ["director_marketing", "cfo"]),
    ]
