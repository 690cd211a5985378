"""One local day's figures of one tenant, per channel and agent, computed from the hot tables:
what the nightly rollup stores, and what the dashboard computes live for today.

Every query is bounded by the day. Messages are reached through the tenant's conversations
active since the day began (the index on tenant and last activity), then by time within each
(the index on conversation and time): a message of the day is in a conversation whose last
activity is at or after it. A rating is a message too, so the same holds for ratings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from accounts.models import Tenant
from agents.models import AgentRun
from channels_app.models import Conversation, Message
from hitl.models import Approval
from monitoring.analytics.costs import WHATSAPP_BILLED, whatsapp_price
from monitoring.analytics.histogram import histogram_of, percentiles_exact

Key = tuple[str, str]  # (channel, agent_type)

QUIET_RESOLVES = timedelta(hours=24)
APPROVED = (Approval.Status.APPROVED, Approval.Status.AUTO_APPROVED)
REJECTED = (Approval.Status.REJECTED, Approval.Status.CHANGES_REQUESTED)
DECIDED_BY_A_PERSON = (
    Approval.Status.APPROVED,
    Approval.Status.REJECTED,
    Approval.Status.CHANGES_REQUESTED,
)


@dataclass
class RowFigures:
    """The additive figures of one (day, channel, agent): DailyRollup's columns of the same
    names, less the percentiles (`response_times` gives them, then is dropped)."""

    conversations_started: int = 0
    conversations_active: int = 0
    conversations_settled: int = 0
    conversations_resolved: int = 0
    conversations_escalated: int = 0
    messages_user: int = 0
    messages_agent: int = 0
    messages_human: int = 0
    replies_timed: int = 0
    response_ms_sum: int = 0
    response_ms_max: int = 0
    csat_count: int = 0
    csat_sum: int = 0
    approvals_created: int = 0
    approvals_approved: int = 0
    approvals_rejected: int = 0
    approvals_expired: int = 0
    decisions_timed: int = 0
    decision_seconds_sum: int = 0
    sla_total: int = 0
    sla_met: int = 0
    runs: int = 0
    runs_failed: int = 0
    runs_reviewed: int = 0
    confidence_count: int = 0
    confidence_sum: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    agent_cost_usd: Decimal = Decimal(0)
    whatsapp_messages: int = 0
    whatsapp_price_usd: Decimal = Decimal(0)
    whatsapp_cost_usd: Decimal = Decimal(0)
    response_times: list[int] = field(default_factory=list, repr=False)

    def stored(self) -> dict[str, Any]:
        """The row's columns: the figures, the percentiles and the histogram."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "response_times"}
        exact = percentiles_exact(self.response_times)
        values.update(
            response_p50=exact[50],
            response_p95=exact[95],
            response_p99=exact[99],
            response_histogram=histogram_of(self.response_times),
        )
        return values


ADDITIVE = tuple(f.name for f in fields(RowFigures) if f.name != "response_times")


@dataclass
class DayFigures:
    tenant: Tenant
    day: date
    rows: dict[Key, RowFigures]

    @property
    def response_times(self) -> list[int]:
        return [ms for row in self.rows.values() for ms in row.response_times]


def zone_of(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.time_zone)


def local_today(tenant: Tenant, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zone_of(tenant)).date()


def day_bounds(tenant: Tenant, day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in the tenant's zone (23 or 25 hours long
    when the clocks change)."""
    zone = zone_of(tenant)
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def _day_messages(tenant: Tenant, start: datetime, end: datetime) -> QuerySet[Message]:
    return Message.objects.filter(
        conversation__tenant=tenant,
        conversation__last_activity_at__gte=start,
        created_at__gte=start,
        created_at__lt=end,
    ).order_by()


def day_figures(*, tenant: Tenant, day: date, now: datetime | None = None) -> DayFigures:
    """The day's figures as known at `now` (today's: up to now)."""
    now = now or timezone.now()
    start, end = day_bounds(tenant, day)
    end = min(end, now)
    rows: dict[Key, RowFigures] = defaultdict(RowFigures)
    if end > start:
        _conversations(rows, tenant=tenant, start=start, end=end, now=now)
        _messages(rows, tenant=tenant, start=start, end=end)
        _ratings(rows, tenant=tenant, start=start, end=end)
        _approvals(rows, tenant=tenant, start=start, end=end)
        _runs(rows, tenant=tenant, start=start, end=end)
    price = whatsapp_price(tenant)
    for row in rows.values():
        row.whatsapp_price_usd = price
        row.whatsapp_cost_usd = row.whatsapp_messages * price
    return DayFigures(tenant=tenant, day=day, rows=dict(rows))


def _conversations(
    rows: dict[Key, RowFigures], *, tenant: Tenant, start: datetime, end: datetime, now: datetime
) -> None:
    started = (
        Conversation.objects.filter(
            tenant=tenant,
            last_activity_at__gte=start,
            started_at__gte=start,
            started_at__lt=end,
        )
        .order_by()
        .annotate(
            last_reply=Max(
                "messages__created_at", filter=Q(messages__sender_kind=Message.SenderKind.AGENT)
            ),
            last_word=Max(
                "messages__created_at", filter=Q(messages__sender_kind=Message.SenderKind.USER)
            ),
        )
        .values_list(
            "channel",
            "current_agent_type",
            "escalated_at",
            "closed_at",
            "csat_score",
            "last_activity_at",
            "last_reply",
            "last_word",
        )
    )
    for (
        channel,
        agent,
        escalated_at,
        closed_at,
        score,
        last_activity,
        last_reply,
        last_word,
    ) in started:
        row = rows[(channel, agent)]
        escalated = escalated_at is not None
        quiet_after_reply = (
            last_reply is not None
            and (last_word is None or last_word < last_reply)
            and last_reply + QUIET_RESOLVES <= now
        )
        resolved = (not escalated and (closed_at is not None or quiet_after_reply)) or (
            score is not None and score >= 4
        )
        settled = (
            resolved or escalated or closed_at is not None or last_activity + QUIET_RESOLVES <= now
        )
        row.conversations_started += 1
        row.conversations_settled += settled
        row.conversations_resolved += resolved
        row.conversations_escalated += escalated

    active = (
        _day_messages(tenant, start, end)
        .values("channel", "conversation__current_agent_type")
        .annotate(n=Count("conversation", distinct=True))
    )
    for item in active:
        rows[
            (item["channel"], item["conversation__current_agent_type"])
        ].conversations_active = item["n"]


def _messages(
    rows: dict[Key, RowFigures], *, tenant: Tenant, start: datetime, end: datetime
) -> None:
    agent = Coalesce(NullIf("agent_type", Value("")), "conversation__current_agent_type")
    kinds = Message.SenderKind
    counted = (
        _day_messages(tenant, start, end)
        .values("channel", agent_key=agent)
        .annotate(
            user=Count("id", filter=Q(sender_kind=kinds.USER)),
            agent=Count("id", filter=Q(sender_kind=kinds.AGENT)),
            human=Count("id", filter=Q(sender_kind=kinds.HUMAN)),
            whatsapp=Count("id", filter=WHATSAPP_BILLED),
        )
    )
    for item in counted:
        row = rows[(item["channel"], item["agent_key"])]
        row.messages_user = item["user"]
        row.messages_agent = item["agent"]
        row.messages_human = item["human"]
        row.whatsapp_messages = item["whatsapp"]
    timed = (
        _day_messages(tenant, start, end)
        .filter(sender_kind=kinds.AGENT, response_time_ms__isnull=False)
        .annotate(agent_key=agent)
        .values_list("channel", "agent_key", "response_time_ms")
    )
    for channel, agent_type, nullable_ms in timed:
        ms = cast(int, nullable_ms)  # the query keeps only timed replies
        row = rows[(channel, agent_type)]
        row.response_times.append(ms)
        row.replies_timed += 1
        row.response_ms_sum += ms
        row.response_ms_max = max(row.response_ms_max, ms)


def _ratings(
    rows: dict[Key, RowFigures], *, tenant: Tenant, start: datetime, end: datetime
) -> None:
    rated = (
        Conversation.objects.filter(
            tenant=tenant,
            last_activity_at__gte=start,
            csat_rated_at__gte=start,
            csat_rated_at__lt=end,
            csat_score__isnull=False,
        )
        .order_by()
        .values("channel", "current_agent_type")
        .annotate(n=Count("id"), total=Sum("csat_score"))
    )
    for item in rated:
        row = rows[(item["channel"], item["current_agent_type"])]
        row.csat_count, row.csat_sum = item["n"], item["total"]


def _approvals(
    rows: dict[Key, RowFigures], *, tenant: Tenant, start: datetime, end: datetime
) -> None:
    created = Q(created_at__gte=start, created_at__lt=end)
    decided = Q(decided_at__gte=start, decided_at__lt=end)
    by_a_person = decided & Q(status__in=DECIDED_BY_A_PERSON)
    with_deadline = Q(sla_deadline__isnull=False)
    counted = (
        Approval.objects.filter(Q(tenant=tenant) & (created | decided))
        .order_by()
        .values(
            channel_key=Coalesce("conversation__channel", Value("")),
            agent_key=F("requested_by_agent"),
        )
        .annotate(
            created=Count("id", filter=created),
            approved=Count("id", filter=decided & Q(status__in=APPROVED)),
            rejected=Count("id", filter=decided & Q(status__in=REJECTED)),
            expired=Count("id", filter=decided & Q(status=Approval.Status.EXPIRED)),
            timed=Count("id", filter=by_a_person),
            waited=Sum(
                ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField()),
                filter=by_a_person,
            ),
            sla_total=Count(
                "id",
                filter=with_deadline
                & (by_a_person | (decided & Q(status=Approval.Status.EXPIRED))),
            ),
            sla_met=Count(
                "id", filter=with_deadline & by_a_person & Q(decided_at__lte=F("sla_deadline"))
            ),
        )
        .values_list(
            "channel_key",
            "agent_key",
            "created",
            "approved",
            "rejected",
            "expired",
            "timed",
            "waited",
            "sla_total",
            "sla_met",
        )
    )
    for (
        channel,
        agent,
        n,
        approved,
        rejected,
        expired,
        timed,
        waited,
        sla_total,
        sla_met,
    ) in counted:
        row = rows[(channel, agent)]
        row.approvals_created = n
        row.approvals_approved = approved
        row.approvals_rejected = rejected
        row.approvals_expired = expired
        row.decisions_timed = timed
        row.decision_seconds_sum = round(waited.total_seconds()) if waited else 0
        row.sla_total = sla_total
        row.sla_met = sla_met


def _runs(rows: dict[Key, RowFigures], *, tenant: Tenant, start: datetime, end: datetime) -> None:
    counted = (
        AgentRun.objects.filter(tenant=tenant, created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("agent_type", channel_key=Coalesce("conversation__channel", Value("")))
        .annotate(
            n=Count("id"),
            failed=Count("id", filter=Q(status=AgentRun.Status.ERROR)),
            reviewed=Count("id", filter=Q(needs_review=True)),
            confident=Count("confidence"),
            confidence=Sum("confidence"),
            tokens_in_sum=Sum("tokens_in"),
            tokens_out_sum=Sum("tokens_out"),
            cost=Sum("cost_usd"),
        )
    )
    for item in counted:
        row = rows[(item["channel_key"], item["agent_type"])]
        row.runs = item["n"]
        row.runs_failed = item["failed"]
        row.runs_reviewed = item["reviewed"]
        row.confidence_count = item["confident"]
        row.confidence_sum = item["confidence"] or 0.0
        row.tokens_in = item["tokens_in_sum"] or 0
        row.tokens_out = item["tokens_out_sum"] or 0
        row.agent_cost_usd = item["cost"] or Decimal(0)
