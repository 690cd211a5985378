"""Per-agent performance over a date range, from AgentRun rows (bounded by the range)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import TruncDate

from accounts.models import Tenant
from agents.models import AgentRun


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
    return {
        "agent_type": agent_type,
        "start": start.isoformat(),
        "end": end.isoformat(),
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
