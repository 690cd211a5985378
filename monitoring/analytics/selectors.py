"""Reading the analytics: a range of the tenant's local days from the rollups, the days not
rolled up yet (today, and yesterday until the nightly run) computed live, and the live figures
of the last minutes. A fixed number of queries whatever the tenant's volume: five over the
rollups (the range's days and the tenant's first; its sums per day and channel and per agent,
added up by the database; the agents' response-time histograms), a handful for each live day
(bounded by the day) and one each for the live figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Tenant
from agents.types import WALKER_AGENT_TYPES, AgentType
from channels_app.models import Channel, Conversation, Message
from hitl.models import OPEN_STATUSES, Approval
from monitoring.analytics.figures import ADDITIVE, day_figures, local_today, zone_of
from monitoring.analytics.histogram import (
    histogram_add,
    percentiles_estimated,
    percentiles_exact,
)
from monitoring.models import DailyRollup, RollupDay

PERIODS = (7, 30, 90)
ACTIVE_WINDOW = timedelta(minutes=15)
RECENT_REPLIES = 100
# A conversation takes the next message until it has been idle this long (channels_app.inbound):
# until then it is open, the per-agent "active" figure.
OPEN_WINDOW = timedelta(hours=24)
CHANNEL_LABELS = {**dict(Channel.choices), "": "No channel"}
AGENT_LABELS = {**dict(AgentType.choices), "": "No agent yet"}
K = TypeVar("K", bound=Hashable)
# Summed over rows; the slowest reply is their maximum; a price is not added up.
SUMMED = tuple(name for name in ADDITIVE if name not in ("response_ms_max", "whatsapp_price_usd"))
# In this order: _summed_by reads them by position.
SUMS_SQL: dict[str, Any] = {
    **{f"sum_{name}": Sum(name) for name in SUMMED},
    "sum_response_ms_max": Max("response_ms_max"),
}


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))


@dataclass
class Sums:
    """The additive figures of a set of rollup rows, and what they give."""

    values: dict[str, Any] = field(
        default_factory=lambda: dict.fromkeys((*SUMMED, "response_ms_max"), 0)
    )
    histogram: list[int] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        """Add a row: a rollup row's columns, or a group of them summed by the database."""
        values = self.values
        for name in SUMMED:
            values[name] += row[name]
        values["response_ms_max"] = max(values["response_ms_max"], row["response_ms_max"])
        if "response_histogram" in row:
            self.histogram = histogram_add(self.histogram, row["response_histogram"])

    def merge(self, other: Sums) -> None:
        self.add(other.values)
        self.histogram = histogram_add(self.histogram, other.histogram)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def messages(self) -> int:
        return self.messages_user + self.messages_agent + self.messages_human

    @property
    def csat(self) -> float | None:
        return round(self.csat_sum / self.csat_count, 2) if self.csat_count else None

    @property
    def cost_usd(self) -> Decimal:
        return _money(Decimal(self.agent_cost_usd) + Decimal(self.whatsapp_cost_usd))

    @property
    def cost_per_conversation_usd(self) -> Decimal | None:
        if not self.conversations_started:
            return None
        return _money(self.cost_usd / self.conversations_started)

    def response_time(self) -> dict[str, Any]:
        estimated = percentiles_estimated(self.histogram, max_ms=self.response_ms_max)
        return {
            "replies": self.replies_timed,
            "avg_ms": (
                round(self.response_ms_sum / self.replies_timed) if self.replies_timed else None
            ),
            "p50": estimated[50],
            "p95": estimated[95],
            "p99": estimated[99],
        }

    def conversation_figures(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations_started,
            "messages": self.messages,
            "csat": self.csat,
            "csat_count": self.csat_count,
            "resolution_rate": _rate(self.conversations_resolved, self.conversations_settled),
            "escalation_rate": _rate(self.conversations_escalated, self.conversations_settled),
        }

    def agent_figures(self) -> dict[str, Any]:
        return {
            **self.conversation_figures(),
            "avg_confidence": (
                round(self.confidence_sum / self.confidence_count, 3)
                if self.confidence_count
                else None
            ),
            "hitl_rate": _rate(self.runs_reviewed, self.runs),
            "runs": self.runs,
            "cost_usd": self.cost_usd,
            "cost_per_conversation_usd": self.cost_per_conversation_usd,
        }


def merged(groups: Iterable[tuple[K, Sums]]) -> dict[K, Sums]:
    result: dict[K, Sums] = defaultdict(Sums)
    for key, sums in groups:
        result[key].merge(sums)
    return result


def _summed_by(rows: QuerySet[DailyRollup], *keys: str) -> Iterator[dict[str, Any]]:
    """The rows' sums per value of `keys`, added up by the database."""
    for group in rows.order_by().values_list(*keys).annotate(**SUMS_SQL):
        yield dict(zip((*keys, *SUMMED, "response_ms_max"), group, strict=True))


@dataclass
class RangeFigures:
    tenant: Tenant
    start: date
    end: date
    # The figures per day and channel, and per agent (these with their response-time histogram).
    by_day_channel: dict[tuple[date, str], Sums]
    by_agent: dict[str, Sums]
    # Per day, the exact percentiles of all its replies (rollups keep them; live days compute).
    day_percentiles: dict[date, dict[int, int | None]]
    live_days: list[date]
    missing_days: list[date]

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def by_day(self) -> dict[date, Sums]:
        return merged((day, sums) for (day, _), sums in self.by_day_channel.items())

    def by_channel(self) -> dict[str, Sums]:
        return merged((channel, sums) for (_, channel), sums in self.by_day_channel.items())

    def total(self) -> Sums:
        return merged((None, sums) for sums in self.by_agent.values())[None]


def analytics_range(
    *, tenant: Tenant, start: date, end: date, now: datetime | None = None
) -> RangeFigures:
    """The tenant's local days from `start` to `end` (at most today), both included: five
    queries over the rollups, and the queries of each day computed live."""
    now = now or timezone.now()
    today = local_today(tenant, now)
    end = min(end, today)
    percentiles: dict[date, dict[int, int | None]] = {
        day: {50: p50, 95: p95, 99: p99}
        for day, p50, p95, p99 in RollupDay.objects.filter(
            tenant=tenant, day__range=(start, end)
        ).values_list("day", "response_p50", "response_p95", "response_p99")
    }
    rollups = DailyRollup.objects.filter(tenant=tenant, day__range=(start, end))
    by_day_channel: dict[tuple[date, str], Sums] = defaultdict(Sums)
    for group in _summed_by(rollups, "day", "channel"):
        by_day_channel[(group["day"], group["channel"])].add(group)
    by_agent: dict[str, Sums] = defaultdict(Sums)
    for group in _summed_by(rollups, "agent_type"):
        by_agent[group["agent_type"]].add(group)
    for agent, counts in rollups.filter(replies_timed__gt=0).values_list(
        "agent_type", "response_histogram"
    ):
        by_agent[agent].histogram = histogram_add(by_agent[agent].histogram, counts)

    live = [day for day in (today - timedelta(days=1), today) if start <= day <= end]
    live = [day for day in live if day not in percentiles]
    for day in live:
        figures = day_figures(tenant=tenant, day=day, now=now)
        for (channel, agent), row in figures.rows.items():
            stored = row.stored()
            by_day_channel[(day, channel)].add(stored)
            by_agent[agent].add(stored)
        percentiles[day] = percentiles_exact(figures.response_times)
    result = RangeFigures(
        tenant=tenant,
        start=start,
        end=end,
        by_day_channel=by_day_channel,
        by_agent=by_agent,
        day_percentiles=percentiles,
        live_days=live,
        missing_days=[],
    )
    # Days before the tenant's data (its first rolled-up day, or its creation) are not missing.
    first_rolled_up = RollupDay.objects.filter(tenant=tenant).aggregate(first=Min("day"))["first"]
    created = tenant.created_at.astimezone(zone_of(tenant)).date()
    data_from = min(first_rolled_up or created, created)
    result.missing_days = [
        day for day in result.days if day not in percentiles and day >= data_from
    ]
    return result


def analytics_live(*, tenant: Tenant, now: datetime | None = None) -> dict[str, Any]:
    """What is happening now: conversations active in the last 15 minutes, messages in the last
    hour, the average response time of the last 100 replies (of that hour: a wider window makes
    the newest replies a sort over a day of messages), the approvals waiting and those past
    their deadline, and the open conversations per agent."""
    now = now or timezone.now()
    conversations = Conversation.objects.filter(tenant=tenant).order_by()
    open_by_agent = dict(
        conversations.filter(last_activity_at__gte=now - OPEN_WINDOW)
        .exclude(status=Conversation.Status.CLOSED)
        .values("current_agent_type")
        .annotate(n=Count("id"))
        .values_list("current_agent_type", "n")
    )
    hour_ago = now - timedelta(hours=1)
    messages_last_hour = Message.objects.filter(
        conversation__tenant=tenant,
        conversation__last_activity_at__gte=hour_ago,
        created_at__gte=hour_ago,
        created_at__lte=now,
    ).count()
    recent = (
        Message.objects.filter(
            conversation__tenant=tenant,
            conversation__last_activity_at__gte=hour_ago,
            created_at__gte=hour_ago,
            created_at__lte=now,
            sender_kind=Message.SenderKind.AGENT,
            response_time_ms__isnull=False,
        )
        .order_by("-created_at")
        .values_list("response_time_ms", flat=True)[:RECENT_REPLIES]
    )
    latest = list(recent)
    approvals = Approval.objects.filter(tenant=tenant, status__in=OPEN_STATUSES).aggregate(
        pending=Count("id"), breached=Count("id", filter=Q(sla_breached=True))
    )
    return {
        "active_conversations": conversations.filter(
            last_activity_at__gte=now - ACTIVE_WINDOW
        ).count(),
        "messages_last_hour": messages_last_hour,
        "avg_response_time_ms": round(sum(latest) / len(latest)) if latest else None,
        "hitl_pending_count": approvals["pending"],
        "hitl_breached_count": approvals["breached"],
        "open_by_agent": open_by_agent,
        "timestamp": now,
    }


def _agents_listed(present: Iterable[str]) -> list[str]:
    others = sorted(set(present) - set(WALKER_AGENT_TYPES))
    return [*WALKER_AGENT_TYPES, *others]


def dashboard_figures(*, tenant: Tenant, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard and its API show for the last `days` local days, today
    included."""
    now = now or timezone.now()
    today = local_today(tenant, now)
    figures = analytics_range(
        tenant=tenant, start=today - timedelta(days=days - 1), end=today, now=now
    )
    live = analytics_live(tenant=tenant, now=now)
    total = figures.total()
    by_channel = figures.by_channel()
    by_agent = figures.by_agent
    by_day = figures.by_day()
    by_day_channel = figures.by_day_channel
    channels = [c for c in Channel.values if c in by_channel]
    channels += [c for c in sorted(by_channel) if c not in Channel.values]
    return {
        "period": {
            "days": days,
            "start": figures.start,
            "end": figures.end,
            "time_zone": tenant.time_zone,
            "live_days": figures.live_days,
            "missing_days": figures.missing_days,
        },
        "totals": {
            **total.agent_figures(),
            "conversations_settled": total.conversations_settled,
            "resolved": total.conversations_resolved,
            "escalated": total.conversations_escalated,
            "messages_user": total.messages_user,
            "messages_agent": total.messages_agent,
            "messages_human": total.messages_human,
            "tokens_in": total.tokens_in,
            "tokens_out": total.tokens_out,
            "agent_cost_usd": _money(Decimal(total.agent_cost_usd)),
            "whatsapp_messages": total.whatsapp_messages,
            "whatsapp_cost_usd": _money(Decimal(total.whatsapp_cost_usd)),
            "active_conversations": live["active_conversations"],
        },
        "by_channel": [
            {
                "channel": channel,
                "name": CHANNEL_LABELS.get(channel, channel),
                **by_channel[channel].conversation_figures(),
                "share": _rate(
                    by_channel[channel].conversations_started, total.conversations_started
                ),
                "cost_usd": by_channel[channel].cost_usd,
            }
            for channel in channels
        ],
        "by_agent": [
            {
                "agent_type": agent,
                "name": AGENT_LABELS.get(agent, agent),
                **(by_agent.get(agent) or Sums()).agent_figures(),
                "active": live["open_by_agent"].get(agent, 0),
                "response_time": (by_agent.get(agent) or Sums()).response_time(),
            }
            for agent in _agents_listed(by_agent)
        ],
        "response_time": total.response_time(),
        "hitl": {
            "pending": live["hitl_pending_count"],
            "breached": live["hitl_breached_count"],
            "created": total.approvals_created,
            "approved": total.approvals_approved,
            "rejected": total.approvals_rejected,
            "expired": total.approvals_expired,
            "avg_decision_seconds": (
                round(total.decision_seconds_sum / total.decisions_timed)
                if total.decisions_timed
                else None
            ),
            "sla_compliance": _rate(total.sla_met, total.sla_total),
        },
        "series": [
            {
                "date": day,
                "state": (
                    "live"
                    if day in figures.live_days
                    else "missing"
                    if day in figures.missing_days
                    else "rolled_up"
                ),
                **_day_point(by_day.get(day) or Sums(), figures.day_percentiles.get(day) or {}),
                "conversations_by_channel": {
                    c: (by_day_channel.get((day, c)) or Sums()).conversations_started
                    for c in channels
                },
            }
            for day in figures.days
        ],
        "live": live,
    }


def _day_point(sums: Sums, percentiles: dict[int, int | None]) -> dict[str, Any]:
    return {
        **sums.conversation_figures(),
        "active": sums.conversations_active,
        "response_p50": percentiles.get(50),
        "response_p95": percentiles.get(95),
        "response_p99": percentiles.get(99),
        "approvals_created": sums.approvals_created,
        "approvals_approved": sums.approvals_approved,
        "approvals_rejected": sums.approvals_rejected,
        "approvals_expired": sums.approvals_expired,
        "cost_usd": sums.cost_usd,
    }


def agent_conversation_figures(
    *, tenant: Tenant, agent_type: str, start: date, end: date
) -> dict[str, Any]:
    """One agent's conversation figures over a range of the tenant's local days (registered
    with agents.analytics, which cannot read the conversations itself)."""
    sums = analytics_range(tenant=tenant, start=start, end=end).by_agent.get(agent_type) or Sums()
    open_now = (
        Conversation.objects.filter(
            tenant=tenant,
            current_agent_type=agent_type,
            last_activity_at__gte=timezone.now() - OPEN_WINDOW,
        )
        .exclude(status=Conversation.Status.CLOSED)
        .count()
    )
    return {
        **sums.conversation_figures(),
        "active": open_now,
        "response_time": sums.response_time(),
    }
