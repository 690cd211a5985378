"""The brief in a real browser: the admin's preview of a person's brief for today, the HTML as
sent, and the unsubscribe page its footer links to. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import SubscriptionTier
from accounts.roles import MARKETING_MANAGER, SUPER_ADMIN
from channels_app.email.models import EmailPreferences
from channels_app.email.services import preferences_update
from channels_app.email.tokens import UNSUBSCRIBE, token_make
from hitl.models import HoldReason
from hitl.services import approval_request
from tests.e2e.conftest import screenshot
from tests.e2e.test_admin_console import log_in
from tests.email.conftest import enable_agents, seed_marketing
from tests.factories import StaffFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

# WCAG AA for body text: the luminance contrast of text and background is at least 4.5.
CONTRAST = """
(selector) => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((c) => {
      c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && !bg.endsWith(", 0)") && bg !== "transparent") return bg;
    }
    return "rgb(255, 255, 255)";
  };
  return [...document.querySelectorAll(selector)].map((el) => {
    const fg = lum(getComputedStyle(el).color), bg = lum(background(el));
    return {text: el.textContent.trim().slice(0, 40), bgLum: bg,
            ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)};
  });
}
"""


@pytest.fixture
def acme() -> dict[str, Any]:
    tenant = TenantFactory(slug="acme", name="Acme Corp", tier=SubscriptionTier.BUSINESS)
    enable_agents(tenant)
    seed_marketing(tenant, timezone.localdate() - timedelta(days=1))
    reader = StaffFactory(
        tenant=tenant,
        username="carmen",
        first_name="Carmen",
        email="carmen@acme.example",
        time_zone="America/New_York",
        roles=[MARKETING_MANAGER],
    )
    preferences_update(user=reader, now=timezone.now())
    for reasons, cost in (
        ([HoldReason.HUMAN_REQUESTED], None),
        ([HoldReason.ACTION], Decimal("600.00")),
    ):
        approval = approval_request(
            tenant=tenant,
            action_type="budget_increase" if cost else "held_reply",
            hold_reasons=reasons,
            estimated_cost=cost,
            requested_by_agent="paid_ads_optimization",
        )
        assign_perm("hitl.decide_approval", reader, approval)
    return {
        "admin": StaffFactory(tenant=tenant, username="admin", roles=[SUPER_ADMIN]),
        "reader": reader,
    }


def test_the_brief_reads_well_in_a_browser(page: Any, live_server: Any, acme: Any) -> None:
    base = live_server.url
    log_in(page, base, "admin")
    reader = acme["reader"]
    page.goto(f"{base}/admin/channels_app/emailpreferences/preview/{reader.pk}/")
    assert "urgent items need review" in page.locator("body").inner_text()
    frame = page.frame_locator("iframe")
    frame.locator("text=Needs your attention").wait_for()
    screenshot(page, "email-brief-admin-preview")

    # The HTML alone, at a mail client's width.
    page.set_viewport_size({"width": 720, "height": 1000})
    page.goto(f"{base}/admin/channels_app/emailpreferences/preview/{reader.pk}/html/")
    text = page.locator("body").inner_text()
    assert "Your daily brief" in text and "Carmen" in text
    assert re.search(r"ROAS\s+\d+\.\d\dx", text)
    assert re.search(r"\$\d{1,3}(,\d{3})*\.\d\d", text)  # money with its unit and cents
    assert re.search(r"[+-]\d+\.\d%", text)  # changes with their sign
    assert "Review and decide" in text and "Unsubscribe" in text
    # Tables laid out as tables, not collapsed: the day-by-day ROAS has its seven rows.
    assert page.locator("table.data").first.locator("tbody tr").count() == 7
    # Dark text on light backgrounds, readable everywhere that matters.
    checked = page.evaluate(
        CONTRAST,
        ".stat-value, .stat-label, .data td, .data th, .alert-cell, .action-text, h1, h2, p",
    )
    assert len(checked) > 50
    low = [c for c in checked if c["ratio"] < 4.5]
    assert low == [], low
    assert all(c["bgLum"] > 0.8 for c in checked)  # light backgrounds
    # The brief fits the mail client's width: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 720
    screenshot(page, "email-brief-full")

    preferences_update(user=reader, now=timezone.now(), digest_format="bullet_points")
    page.goto(f"{base}/admin/channels_app/emailpreferences/preview/{reader.pk}/html/")
    assert page.locator("ul.bullets li").count() > 8
    screenshot(page, "email-brief-bullets")


def test_the_footers_unsubscribe_page(page: Any, live_server: Any, acme: Any) -> None:
    reader = acme["reader"]
    token = token_make(user_id=reader.pk, purpose=UNSUBSCRIBE)
    page.set_viewport_size({"width": 720, "height": 700})
    page.goto(f"{live_server.url}/email/unsubscribe/?token={token}")
    page.get_by_role("button", name="Unsubscribe").click()
    page.locator("text=You're unsubscribed").wait_for()
    screenshot(page, "email-unsubscribed")
    assert not EmailPreferences.objects.get(user=reader).enabled
