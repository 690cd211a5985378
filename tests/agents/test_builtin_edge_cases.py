"""Answers on data at the edges: a figure with no ratio to state is skipped or shown as zero,
never a crash. (Found by the type checker: each of these raised before.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from agents.backends.builtin import content, paid_ads
from hitl.models import Approval
from hitl.notifications import outcome_text
from tests.agents.factories import CampaignDayFactory, ContentItemFactory, yesterday
from tests.factories import TenantFactory


@pytest.mark.django_db
def test_roas_up_from_zero_the_week_before_has_no_percentage() -> None:
    day = CampaignDayFactory(revenue=Decimal("300.00"))
    CampaignDayFactory(
        campaign=day.campaign,
        date=yesterday() - timedelta(days=paid_ads.WINDOW_DAYS),
        revenue=Decimal("0.00"),
    )

    answer = paid_ads.performance(day.campaign.tenant, "how are my ads doing", None, None)

    assert "ROAS is up from 0.00x the week before." in answer.text
    assert answer.figures["roas_change"] is None


@pytest.mark.django_db
def test_content_without_impressions_reads_zero_engagement() -> None:
    tenant = TenantFactory()
    ContentItemFactory(tenant=tenant, impressions=0, engagements=0)

    answer = content.top_content(tenant, "what content works")

    assert "0.0% average engagement" in answer.text
    assert answer.figures["overall_rate"] is None


def test_an_untitled_request_is_named_by_its_action_type() -> None:
    approval = Approval(
        action_type="budget_increase", title="", status=Approval.Status.REJECTED, reason="No."
    )

    assert outcome_text(approval) == 'Your request "Budget increase" was not approved: No.'
