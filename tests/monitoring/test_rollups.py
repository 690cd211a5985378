"""The nightly rollups: every figure of a planted day recomputed by hand, day boundaries in the
tenant's zone, idempotence, the backfill, tenant isolation and retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Tenant
from agents.models import AgentRun
from channels_app.models import Channel, Conversation, Message
from hitl.models import Approval
from monitoring.analytics.rollups import rollup_day, rollups_backfill
from monitoring.models import DailyRollup, RollupDay
from monitoring.tasks import rollups_nightly_task
from privacy.retention import retention_apply
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, DailyRollupFactory, MessageFactory, UserFactory

LA = ZoneInfo("America/Los_Angeles")
ADS, SEO = "paid_ads_optimization", "seo_optimization"
WA, CHAT = Channel.WHATSAPP, Channel.CHAT
USER, AGENT, HUMAN, SYSTEM = "user", "agent", "human", "system"


def la_tenant(tenant: Tenant) -> Tenant:
    Tenant.objects.filter(pk=tenant.pk).update(time_zone="America/Los_Angeles")
    tenant.refresh_from_db()
    return tenant


@dataclass
class Planted:
    tenant: Tenant
    day: date
    now: datetime

    def at(self, hour: int, minute: int = 0, second: int = 0, days: int = 0) -> datetime:
        return datetime.combine(self.day + timedelta(days=days), time(hour, minute, second), LA)


def conversation(
    p: Planted, channel: str, agent: str, started: datetime, tenant: Tenant | None = None, **kw: Any
) -> Conversation:
    tenant = tenant or p.tenant
    person = UserFactory(tenant=tenant)
    return ConversationFactory(
        tenant=tenant,
        user=person,
        channel=channel,
        current_agent_type=agent,
        started_at=started,
        last_activity_at=started,
        **kw,
    )


def message(
    conv: Conversation, sender: str, at: datetime, rt: int | None = None, **kw: Any
) -> Message:
    outbound = sender != USER
    msg = MessageFactory(
        conversation=conv,
        direction="outbound" if outbound else "inbound",
        sender_kind=sender,
        created_at=at,
        agent_type=conv.current_agent_type if sender == AGENT else "",
        response_time_ms=rt,
        delivery_status="delivered" if outbound else "received",
        **kw,
    )
    Conversation.objects.filter(pk=conv.pk, last_activity_at__lt=at).update(last_activity_at=at)
    return msg


def run(p: Planted, agent: str, at: datetime, conv: Conversation | None, **kw: Any) -> AgentRun:
    return AgentRun.objects.create(
        tenant=p.tenant,
        agent_type=agent,
        backend="builtin",
        status=kw.pop("status", "ok"),
        latency_ms=500,
        conversation=conv,
        created_at=at,
        **kw,
    )


def approval(p: Planted, created: datetime, status: str, **kw: Any) -> Approval:
    return Approval.objects.create(
        tenant=p.tenant, action_type="budget_increase", created_at=created, status=status, **kw
    )


@pytest.fixture
def planted(people: TenantPeople) -> Planted:
    """A day D in Los Angeles, ten days ago, with what every figure needs (see each comment)."""
    tenant = la_tenant(people.tenant)
    day = timezone.now().astimezone(LA).date() - timedelta(days=10)
    p = Planted(
        tenant=tenant, day=day, now=datetime.combine(day + timedelta(days=10), time(12), LA)
    )

    # A: WhatsApp, paid ads, 09:00. Two replies (800, 1200 ms), rated 5 at 09:10 (the rating is
    # the person's message; the thanks a system message). Resolved by its rating.
    a = conversation(p, WA, ADS, p.at(9))
    message(a, USER, p.at(9))
    message(a, AGENT, p.at(9, 0, 2), rt=800)
    message(a, USER, p.at(9, 5))
    message(a, AGENT, p.at(9, 5, 1), rt=1200)
    message(a, USER, p.at(9, 10))
    message(a, SYSTEM, p.at(9, 10, 1))
    Conversation.objects.filter(pk=a.pk).update(csat_score=5, csat_rated_at=p.at(9, 10))
    # B: WhatsApp, paid ads, 23:30 in Los Angeles (the next day in UTC). One reply (3000 ms),
    # then silence: resolved by 24 h of quiet after the agent's last reply.
    b = conversation(p, WA, ADS, p.at(23, 30))
    message(b, USER, p.at(23, 30))
    message(b, AGENT, p.at(23, 30, 3), rt=3000)
    # C: chat, SEO, 12:00. A reply (400 ms), the person writes again, a human takes over.
    c = conversation(p, CHAT, SEO, p.at(12), escalated_at=p.at(12, 2))
    message(c, USER, p.at(12))
    message(c, AGENT, p.at(12, 0, 1), rt=400)
    message(c, USER, p.at(12, 1))
    message(c, HUMAN, p.at(12, 30))
    # D: chat, SEO, 15:00. A reply (600 ms), closed at 15:10: resolved.
    d = conversation(p, CHAT, SEO, p.at(15), closed_at=p.at(15, 10), status="closed")
    message(d, USER, p.at(15))
    message(d, AGENT, p.at(15, 0, 1), rt=600)
    # E: chat, SEO, 16:00. A reply (200 ms), then the person's last word and silence: settled,
    # not resolved.
    e = conversation(p, CHAT, SEO, p.at(16))
    message(e, USER, p.at(16))
    message(e, AGENT, p.at(16, 0, 1), rt=200)
    message(e, USER, p.at(16, 5))
    # H: chat, SEO, 17:00. A reply (100 ms) then quiet, but a human was needed and closed it:
    # escalated, not resolved (quiet and closed resolve only without escalation).
    h = conversation(p, CHAT, SEO, p.at(17), escalated_at=p.at(17, 1), closed_at=p.at(17, 30))
    message(h, USER, p.at(17))
    message(h, AGENT, p.at(17, 0, 1), rt=100)
    # I: chat, SEO, 18:00. A reply (300 ms), escalated, then rated 4: resolved by its rating.
    i = conversation(p, CHAT, SEO, p.at(18), escalated_at=p.at(18, 1))
    message(i, USER, p.at(18))
    message(i, AGENT, p.at(18, 0, 1), rt=300)
    message(i, USER, p.at(18, 30))
    Conversation.objects.filter(pk=i.pk).update(csat_score=4, csat_rated_at=p.at(18, 30))
    # F: WhatsApp, paid ads, started the day before (a 5000 ms reply then), rated 2 on D at
    # 08:00: active on D, its rating counts on D, it started on D - 1.
    f = conversation(p, WA, ADS, p.at(10, days=-1))
    message(f, USER, p.at(10, days=-1))
    message(f, AGENT, p.at(10, 0, 5, days=-1), rt=5000)
    message(f, USER, p.at(8))
    Conversation.objects.filter(pk=f.pk).update(csat_score=2, csat_rated_at=p.at(8))
    # G: the next day at 00:30 in Los Angeles: not on D.
    g = conversation(p, WA, ADS, p.at(0, 30, days=1))
    message(g, USER, p.at(0, 30, days=1))
    message(g, AGENT, p.at(0, 30, 1, days=1), rt=9000)

    # Approvals of the paid ads agent in A's conversation (WhatsApp).
    asked = {"requested_by_agent": ADS, "conversation": a}
    approval(p, p.at(10), "approved", decided_at=p.at(12), sla_deadline=p.at(14), **asked)
    approval(p, p.at(10), "rejected", decided_at=p.at(9, days=1), **asked)  # decided D + 1
    approval(p, p.at(20, days=-1), "expired", decided_at=p.at(20), sla_deadline=p.at(8), **asked)
    approval(p, p.at(11), "approved", decided_at=p.at(18), sla_deadline=p.at(15), **asked)
    approval(p, p.at(13), "pending", sla_deadline=p.at(13, days=1), **asked)
    approval(p, p.at(13, 30), "auto_approved", decided_at=p.at(13, 30), **asked)
    # Filed by a person, no conversation: no channel, no agent. Changes requested = rejected.
    approval(
        p,
        p.at(9),
        "changes_requested",
        decided_at=p.at(10),
        sla_deadline=p.at(12),
        requested_by=people.owner,
    )

    run(p, ADS, p.at(9, 0, 1), a, confidence=0.8, tokens_in=100, tokens_out=50, cost_usd="0.002")
    run(
        p, ADS, p.at(23, 30, 2), b, confidence=0.6, tokens_in=120, tokens_out=60,
        cost_usd="0.003", needs_review=True,
    )  # fmt: skip
    run(p, SEO, p.at(12, 0, 1), c, status="error", tokens_in=10, cost_usd="0.001")
    run(p, SEO, p.at(14), None, confidence=0.9, tokens_in=200, tokens_out=100, cost_usd="0.004")
    run(p, ADS, p.at(10, days=-1), f, cost_usd="1.000")  # the day before

    # Globex, the same day: none of it is acme's.
    other = Planted(tenant=people.other_tenant, day=day, now=p.now)
    theirs = conversation(other, WA, ADS, p.at(10), tenant=people.other_tenant)
    message(theirs, USER, p.at(10))
    message(theirs, AGENT, p.at(10, 0, 1), rt=50)
    Conversation.objects.filter(pk=theirs.pk).update(csat_score=1, csat_rated_at=p.at(10))
    return p


ZERO = Decimal(0)


def figures(tenant: Tenant, day: date) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (row.channel, row.agent_type): {
            "conversations": (
                row.conversations_started,
                row.conversations_active,
                row.conversations_settled,
                row.conversations_resolved,
                row.conversations_escalated,
            ),
            "messages": (row.messages_user, row.messages_agent, row.messages_human),
            "response": (
                row.replies_timed,
                row.response_ms_sum,
                row.response_ms_max,
                row.response_p50,
                row.response_p95,
                row.response_p99,
            ),
            "csat": (row.csat_count, row.csat_sum, row.csat_average),
            "approvals": (
                row.approvals_created,
                row.approvals_approved,
                row.approvals_rejected,
                row.approvals_expired,
                row.decisions_timed,
                row.decision_seconds_sum,
                row.sla_total,
                row.sla_met,
            ),
            "runs": (
                row.runs,
                row.runs_failed,
                row.runs_reviewed,
                row.confidence_count,
                round(row.confidence_sum, 6),
                row.tokens_in,
                row.tokens_out,
                row.agent_cost_usd,
            ),
            "whatsapp": (row.whatsapp_messages, row.whatsapp_price_usd, row.whatsapp_cost_usd),
        }
        for row in DailyRollup.objects.filter(tenant=tenant, day=day)
    }


def test_a_day_rolls_up_to_the_figures_counted_by_hand(planted: Planted) -> None:
    p = planted
    rollup_day(tenant=p.tenant, day=p.day, now=p.now)

    rows = figures(p.tenant, p.day)
    assert set(rows) == {(WA, ADS), (CHAT, SEO), ("", SEO), ("", "")}
    ads = rows[(WA, ADS)]
    # Started A, B; active A, B, F; both settled and resolved (A rated 5, B quiet after reply).
    assert ads["conversations"] == (2, 3, 2, 2, 0)
    # The person: A 3 (the rating too), B 1, F 1; the agent: A 2, B 1. A's thanks is a notice.
    assert ads["messages"] == (5, 3, 0)
    # 800, 1200, 3000: nearest rank p50 is the 2nd, p95 and p99 the 3rd.
    assert ads["response"] == (3, 5000, 3000, 1200, 3000, 3000)
    assert ads["csat"] == (2, 7, 3.5)  # A's 5 and F's 2, both given on D
    # Created on D: four of A's and the pending one; approved on D: two by a person and the
    # auto-approval; the rejection landed on D + 1; the expiry on D. Decided by a person on D:
    # 2 h and 7 h. Deadlines: one met, one late, one expired.
    assert ads["approvals"] == (5, 3, 0, 1, 2, 9 * 3600, 3, 1)
    assert ads["runs"] == (2, 0, 1, 2, 1.4, 220, 110, Decimal("0.005"))
    # A: 3 received, 3 sent (2 replies, the thanks); B: 1 + 1; F: 1. Professional: $0.0045.
    assert ads["whatsapp"] == (9, Decimal("0.0045"), Decimal("0.0405"))

    seo = rows[(CHAT, SEO)]
    # C, H and I escalated; D (closed) and I (rated 4) resolved; E silent after the person's
    # last word: settled, not resolved.
    assert seo["conversations"] == (5, 5, 5, 2, 3)
    assert seo["messages"] == (8, 5, 1)
    # 100 200 300 400 600: p50 the 3rd; p95 and p99 the 5th.
    assert seo["response"] == (5, 1600, 600, 300, 600, 600)
    assert seo["csat"] == (1, 4, 4.0)
    assert seo["runs"] == (1, 1, 0, 0, 0, 10, 0, Decimal("0.001"))
    assert seo["whatsapp"] == (0, Decimal("0.0045"), ZERO)

    assert rows[("", SEO)]["runs"] == (1, 0, 0, 1, 0.9, 200, 100, Decimal("0.004"))
    assert rows[("", "")]["approvals"] == (1, 0, 1, 0, 1, 3600, 1, 1)

    marker = RollupDay.objects.get(tenant=p.tenant, day=p.day)
    # The whole day, exact: 100 200 300 400 600 800 1200 3000.
    assert (marker.replies_timed, marker.response_p50, marker.response_p95) == (8, 400, 3000)
    assert marker.response_p99 == 3000
    assert marker.time_zone == "America/Los_Angeles"


def test_a_message_at_23_30_local_belongs_to_that_local_day(planted: Planted) -> None:
    p = planted
    assert p.at(23, 30).astimezone(ZoneInfo("UTC")).date() == p.day + timedelta(days=1)
    rollup_day(tenant=p.tenant, day=p.day + timedelta(days=1), now=p.now)
    next_day = figures(p.tenant, p.day + timedelta(days=1))
    # Only G (00:30 local) and the rejection decided that morning: B stays on D.
    assert next_day[(WA, ADS)]["conversations"] == (1, 1, 1, 1, 0)
    assert next_day[(WA, ADS)]["messages"] == (1, 1, 0)
    assert next_day[(WA, ADS)]["response"] == (1, 9000, 9000, 9000, 9000, 9000)
    assert next_day[(WA, ADS)]["approvals"][:3] == (0, 0, 1)


def test_the_same_day_in_utc_cuts_elsewhere(planted: Planted) -> None:
    p = planted
    Tenant.objects.filter(pk=p.tenant.pk).update(time_zone="UTC")
    p.tenant.refresh_from_db()
    rollup_day(tenant=p.tenant, day=p.day, now=p.now)
    # In UTC, D ends at 16:00 or 17:00 in Los Angeles: A (09:00) and F's rating (08:00) are in
    # it, B (23:30) is not.
    ads = figures(p.tenant, p.day)[(WA, ADS)]
    assert ads["conversations"][0] == 1  # A
    assert ads["csat"] == (2, 7, 3.5)


def test_rolling_up_twice_leaves_the_same_rows(planted: Planted) -> None:
    p = planted
    rollup_day(tenant=p.tenant, day=p.day, now=p.now)
    first = figures(p.tenant, p.day)
    ids = set(DailyRollup.objects.values_list("pk", flat=True))
    rollup_day(tenant=p.tenant, day=p.day, now=p.now)
    assert figures(p.tenant, p.day) == first
    assert DailyRollup.objects.count() == len(first) == 4
    assert RollupDay.objects.filter(tenant=p.tenant, day=p.day).count() == 1
    assert not ids & set(DailyRollup.objects.values_list("pk", flat=True))  # replaced


def test_today_is_not_rolled_up(planted: Planted) -> None:
    today = timezone.now().astimezone(LA).date()
    with pytest.raises(ValueError, match="has not ended"):
        rollup_day(tenant=planted.tenant, day=today)


def test_tenants_never_share_a_row(planted: Planted, people: TenantPeople) -> None:
    p = planted
    rollup_day(tenant=p.tenant, day=p.day, now=p.now)
    rollup_day(tenant=people.other_tenant, day=p.day, now=p.now)
    theirs = figures(people.other_tenant, p.day)
    assert set(theirs) == {(WA, ADS)}
    assert theirs[(WA, ADS)]["conversations"][0] == 1
    assert theirs[(WA, ADS)]["csat"] == (1, 1, 1.0)
    assert theirs[(WA, ADS)]["response"][:2] == (1, 50)
    assert figures(p.tenant, p.day)[(WA, ADS)]["csat"] == (2, 7, 3.5)


def test_backfill_fills_every_missing_ended_day_and_refreshes_the_last_ones(
    planted: Planted, people: TenantPeople
) -> None:
    p = planted
    first = p.day - timedelta(days=1)  # F and its run started the day before
    today = p.now.astimezone(LA).date()
    done_before = p.day + timedelta(days=4)
    rollup_day(tenant=p.tenant, day=done_before, now=p.now)
    stamp = RollupDay.objects.get(tenant=p.tenant, day=done_before).computed_at

    result = rollups_backfill(now=p.now + timedelta(minutes=1), days=30, refresh_days=2)

    wanted = {first + timedelta(days=n) for n in range((today - first).days)}
    assert set(RollupDay.objects.filter(tenant=p.tenant).values_list("day", flat=True)) == wanted
    assert (
        RollupDay.objects.get(tenant=p.tenant, day=done_before).computed_at == stamp
    )  # not computed again
    theirs = set(RollupDay.objects.filter(tenant=people.other_tenant).values_list("day", flat=True))
    assert min(theirs) == p.day and max(theirs) == today - timedelta(days=1)
    assert result.days == len(wanted) - 1 + len(theirs)
    assert result.failed_tenants == []

    again = rollups_backfill(now=p.now + timedelta(minutes=2), days=30, refresh_days=2)
    assert again.days == 2 * 2  # only the last two ended days, of each tenant
    refreshed = RollupDay.objects.filter(tenant=p.tenant, day__gte=today - timedelta(days=2))
    assert {r.computed_at for r in refreshed} == {p.now + timedelta(minutes=2)}


def test_backfill_goes_back_no_further_than_asked(planted: Planted) -> None:
    p = planted
    rollups_backfill(now=p.now, days=3, refresh_days=0)
    today = p.now.astimezone(LA).date()
    days = set(RollupDay.objects.filter(tenant=p.tenant).values_list("day", flat=True))
    assert days == {today - timedelta(days=n) for n in (1, 2, 3)}


def test_the_nightly_task_rolls_up_the_planted_day(planted: Planted) -> None:
    result = rollups_nightly_task.apply().get()
    assert result["failed_tenants"] == []
    assert result["days"] >= 10
    assert figures(planted.tenant, planted.day)[(WA, ADS)]["conversations"][:2] == (2, 3)


def test_rollups_are_kept_730_days(people: TenantPeople) -> None:
    now = timezone.now()
    old_day = (now - timedelta(days=731)).date()
    kept_day = (now - timedelta(days=729)).date()
    DailyRollupFactory(tenant=people.tenant, day=old_day)
    DailyRollupFactory(tenant=people.tenant, day=kept_day, channel=CHAT)

    run = retention_apply(dry_run=False, now=now)

    assert run.counts["platform_event_logs.aggregated_analytics"] == 1
    assert list(RollupDay.objects.values_list("day", flat=True)) == [kept_day]
    assert list(DailyRollup.objects.values_list("day", flat=True)) == [kept_day]
