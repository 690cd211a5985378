"""Per-agent performance over a date range: the runs, from AgentRun rows (bounded by the range),
and the conversations (how many, their messages, CSAT, resolution, response times), which live
in a layer above the agents: the console registers the function that reads them
(`conversation_figures_register`, from monitoring's AppConfig), so that this module never
imports it. Without one, those figures are null.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Protocol

from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import TruncDate

from accounts.models import Tenant
from agents.models import AgentRun


class ConversationFigures(Protocol):
    def __call__(
        self, *, tenant: Tenant, agent_type: str, start: date, end: date
    ) -> dict[str, Any]: ...


_conversation_figures: list[ConversationFigures] = []
NO_CONVERSATION_FIGURES: dict[str, Any] = {
    "conversations": None,
    "messages": None,
    "csat": None,
    "csat_count": None,
    "active": None,
    "resolution_rate": None,
    "escalation_rate": None,
    "response_time": None,
}


def conversation_figures_register(provider: ConversationFigures) -> None:
    _conversation_figures[:] = [provider]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def agent_analytics(*, tenant: Tenant, agent_type: str, start: date, end: date) -> dict[str, Any]:
    runs = AgentRun.objects.for_tenant(tenant).filter(
        agent_type=agent_type, created_at__date__range=(start, end)
    )
    totals = runs.aggregate(
        volume=Count("id"),
        errors=Count("id", filter=Q(status=AgentRun.Status.ERROR)),
        reviewed=Count("id", filter=Q(needs_review=True)),
        avg_latency=Avg("latency_ms"),
        avg_confidence=Avg("confidence"),
        cost=Sum("cost_usd"),
        tokens_in=Sum("tokens_in"),
        tokens_out=Sum("tokens_out"),
    )
    volume = totals["volume"]
    p95 = None
    if volume:
        # Nearest-rank percentile: one indexed, offset read instead of loading every latency.
        rank = math.ceil(0.95 * volume) - 1
        p95 = runs.order_by("latency_ms").values_list("latency_ms", flat=True)[rank]
    by_day = (
        runs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            volume=Count("id"),
            errors=Count("id", filter=Q(status=AgentRun.Status.ERROR)),
            avg_latency=Avg("latency_ms"),
        )
        .order_by("day")
    )
    conversations = (
        _conversation_figures[0](tenant=tenant, agent_type=agent_type, start=start, end=end)
        if _conversation_figures
        else NO_CONVERSATION_FIGURES
    )
    return {
        "agent_type": agent_type,
        "start": start.isoformat(),
        "end": end.isoformat(),
        **conversations,
        "volume": volume,
        "avg_response_ms": round(totals["avg_latency"], 1) if volume else None,
        "p95_response_ms": p95,
        "avg_confidence": (
            round(totals["avg_confidence"], 3) if totals["avg_confidence"] is not None else None
        ),
        "hitl_rate": _rate(totals["reviewed"], volume),
        "error_rate": _rate(totals["errors"], volume),
        "cost_usd": str(totals["cost"] or 0),
        "tokens": {"in": totals["tokens_in"] or 0, "out": totals["tokens_out"] or 0},
        "by_day": [
            {
                "date": row["day"].isoformat(),
                "volume": row["volume"],
                "errors": row["errors"],
                "avg_response_ms": round(row["avg_latency"], 1),
            }
            for row in by_day
        ],
    }
