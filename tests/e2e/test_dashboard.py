"""The operations dashboard in a real browser: its charts drawn by unfold's Chart.js from the
planted rollups, its cards showing the planted figures, for 7 and 90 days."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User as UserModel
from accounts.roles import SUPER_ADMIN, SUPPORT_ADMIN
from accounts.services import phone_number_add
from channels_app.models import Conversation
from monitoring.analytics.histogram import EDGES_MS
from monitoring.models import DailyRollup, RollupDay
from tests.e2e.conftest import screenshot
from tests.e2e.test_admin_console import log_in
from tests.factories import (
    ApprovalFactory,
    ConversationFactory,
    MessageFactory,
    StaffFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

AGENTS = ("paid_ads_optimization", "seo_optimization", "content_generation")
CHANNELS = ("whatsapp", "chat", "email")
CHARTS = ("conversations", "share", "response", "approvals")


def bucket_of(ms: int) -> int:
    return max(i for i, edge in enumerate(EDGES_MS) if edge <= ms)


@pytest.fixture
def acme() -> dict[str, Any]:
    """90 days of rollups with a weekly rhythm, and a live conversation: 3 messages in the
    last hour, one of them a reply."""
    tenant = TenantFactory(slug="acme", name="Acme")
    today = timezone.now().date()
    for n in range(1, 90):
        day = today - timedelta(days=n)
        weekday = day.weekday()
        p50 = 600 + 40 * weekday
        marker = RollupDay.objects.create(
            tenant=tenant,
            day=day,
            time_zone="UTC",
            computed_at=timezone.now(),
            replies_timed=60,
            response_p50=p50,
            response_p95=p50 * 3,
            response_p99=p50 * 5,
        )
        for i, (channel, agent) in enumerate(zip(CHANNELS, AGENTS, strict=True)):
            histogram = [0] * len(EDGES_MS)
            histogram[bucket_of(p50)] += 15
            histogram[bucket_of(p50 * 3)] += 4
            histogram[bucket_of(p50 * 5)] += 1
            started = (12 - 3 * i) + (weekday % 5) * (3 - i)
            DailyRollup.objects.create(
                rollup_day=marker,
                tenant=tenant,
                day=day,
                channel=channel,
                agent_type=agent,
                conversations_started=started,
                conversations_active=started + 2,
                conversations_settled=started,
                conversations_resolved=started - 1 if started > 1 else started,
                conversations_escalated=1 if weekday == 2 else 0,
                messages_user=started * 4,
                messages_agent=started * 4,
                replies_timed=20,
                response_ms_sum=20 * p50 + 10 * p50,
                response_ms_max=p50 * 5,
                response_histogram=histogram,
                csat_count=2,
                csat_sum=9 if weekday < 5 else 8,
                approvals_created=3,
                approvals_approved=2 if weekday != 6 else 1,
                approvals_rejected=1 if weekday in (1, 4) else 0,
                approvals_expired=1 if weekday == 6 else 0,
                decisions_timed=2,
                decision_seconds_sum=2 * 3600 * (1 + weekday % 3),
                sla_total=2,
                sla_met=2 if weekday != 3 else 1,
                runs=started * 2,
                runs_reviewed=1,
                confidence_count=started * 2,
                confidence_sum=started * 2 * 0.82,
                agent_cost_usd=Decimal("0.0125") * started,
                whatsapp_messages=started * 8 if channel == "whatsapp" else 0,
                whatsapp_price_usd=Decimal("0.0045"),
                whatsapp_cost_usd=(
                    Decimal("0.0045") * started * 8 if channel == "whatsapp" else Decimal(0)
                ),
            )
    maya = UserFactory(tenant=tenant, username="maya")
    started = timezone.now() - timedelta(minutes=20)
    live = ConversationFactory(tenant=tenant, user=maya, started_at=started)
    MessageFactory(conversation=live, created_at=started)
    MessageFactory(
        conversation=live,
        direction="outbound",
        sender_kind="agent",
        agent_type="paid_ads_optimization",
        response_time_ms=900,
        delivery_status="delivered",
        created_at=started + timedelta(seconds=1),
    )
    MessageFactory(conversation=live, created_at=started + timedelta(minutes=2))
    Conversation.objects.filter(pk=live.pk).update(last_activity_at=started + timedelta(minutes=2))
    ApprovalFactory(tenant=tenant)
    return {"admin": StaffFactory(tenant=tenant, username="admin", roles=[SUPER_ADMIN])}


def charts_drawn(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('canvas.chart')].map(c => {
            const chart = Chart.getChart(c);
            return [c.id, {
                drawn: !!chart && c.width > 0 && c.height > 0,
                type: chart && chart.config.type,
                points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0,
            }];
        }))"""
    )


def card(page: Any, key: str) -> str:
    return page.locator(f'[data-card="{key}"] [data-figure]').inner_text().strip()


@pytest.mark.parametrize("days", [7, 90])
def test_the_dashboard_draws_its_charts_from_the_rollups(
    page: Any, live_server: Any, acme: dict[str, Any], days: int
) -> None:
    base = live_server.url
    log_in(page, base, "admin")
    page.goto(f"{base}/admin/?period={days}")
    page.wait_for_selector("#operations-dashboard")

    drawn = charts_drawn(page)
    assert set(drawn) == {f"chart-{name}" for name in CHARTS}
    assert all(chart["drawn"] for chart in drawn.values()), drawn
    assert drawn["chart-share"]["type"] == "doughnut"
    assert drawn["chart-response"]["type"] == "line"
    assert drawn["chart-conversations"]["points"] == days * len(CHANNELS)
    assert drawn["chart-response"]["points"] == days * 3

    assert card(page, "messages_last_hour") == "3"
    assert card(page, "active_conversations") == "0"  # the last message was 18 minutes ago
    assert card(page, "hitl_pending") == "1"
    assert page.locator("#missing-days").count() == 0
    rows = page.locator("#operations-dashboard table tbody tr")
    assert rows.count() == 4  # the four Walker agents
    assert "Paid Ads Marketing Agent" in rows.first.inner_text()
    assert page.locator("#app-list").is_visible()  # the apps, below
    screenshot(page, f"dashboard-{days}-days")


def test_the_users_page_masks_identities_for_support(
    page: Any, live_server: Any, acme: dict[str, Any]
) -> None:
    maya = UserModel.objects.get(username="maya")
    phone_number_add(user=maya, number="+14155550101", verified=True, primary=True)
    StaffFactory(tenant=maya.tenant, username="support", roles=[SUPPORT_ADMIN])
    base = live_server.url
    log_in(page, base, "support")
    page.goto(f"{base}/admin/monitoring/useractivity/")
    row = page.locator("#result_list tbody tr", has_text="maya")
    text = row.inner_text()
    assert "+1-***-***-0101" in text and "4155550101" not in text
    assert "WhatsApp" in text
    screenshot(page, "users-activity-support")
