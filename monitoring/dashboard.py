"""The admin index as the operations dashboard (UNFOLD["DASHBOARD_CALLBACK"]): cards, charts
and the per-agent table for the console roles, from monitoring.analytics. A platform
superuser picks the tenant (`?tenant=<slug>`); everyone else sees their own."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.models import Tenant
from accounts.types import AuthedRequest, admin_request
from monitoring.analytics.selectors import PERIODS, dashboard_figures

DEFAULT_PERIOD = 30
BLANK = "\u2013"  # an en dash where there is no figure yet
# Chart.js colours per channel, picked to read apart in light and dark mode.
CHANNEL_COLOURS = {"whatsapp": "#16a34a", "chat": "#7c3aed", "email": "#0ea5e9", "": "#94a3b8"}
PERCENTILE_COLOURS = {"p50": "#7c3aed", "p95": "#f59e0b", "p99": "#dc2626"}
APPROVAL_COLOURS = {"approved": "#16a34a", "rejected": "#dc2626", "expired": "#94a3b8"}
LEGEND = {
    "display": True,
    "position": "top",
    "align": "end",
    "labels": {
        "boxWidth": 8,
        "boxHeight": 8,
        "usePointStyle": True,
        "pointStyle": "circle",
        "color": "#9ca3af",
    },
}
TICKS = {"color": "#9ca3af"}
X_TICKS = {**TICKS, "maxRotation": 0, "autoSkip": True, "maxTicksLimit": 8}
# Unfold's charts take these options whole, in place of its own defaults.
BASE_OPTIONS: dict[str, Any] = {
    "animation": False,
    "responsive": True,
    "maintainAspectRatio": False,
    "interaction": {"mode": "index", "intersect": False},
    "plugins": {"legend": LEGEND, "tooltip": {"enabled": True}},
}


NBSP = "\u00a0"  # a figure and its unit stay on one line in the table's narrow columns


def ms_text(ms: int | None) -> str:
    if ms is None:
        return BLANK
    return f"{ms}{NBSP}ms" if ms < 1000 else f"{ms / 1000:.1f}{NBSP}s"


def rate_text(rate: float | None) -> str:
    return BLANK if rate is None else f"{rate * 100:.1f}%"


def money_text(value: Decimal | None) -> str:
    if value is None:
        return BLANK
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}"


def hours_text(seconds: int | None) -> str:
    if seconds is None:
        return BLANK
    return f"{seconds / 60:.0f}{NBSP}min" if seconds < 3600 else f"{seconds / 3600:.1f}{NBSP}h"


def _query(**params: Any) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v is not None})


def _period(request: HttpRequest) -> int:
    try:
        period = int(request.GET.get("period", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return period if period in PERIODS else DEFAULT_PERIOD


def _tenant(request: AuthedRequest) -> tuple[Tenant | None, list[Tenant]]:
    """The tenant shown, and the ones a platform superuser may pick from."""
    user = request.user
    if not user.is_superuser:
        return user.tenant, []
    tenants = list(Tenant.objects.order_by("name"))
    wanted = request.GET.get("tenant") or (user.tenant.slug if user.tenant else None)
    chosen = next((t for t in tenants if t.slug == wanted), tenants[0] if tenants else None)
    return chosen, tenants


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    authed = admin_request(request)
    if not authed.user.has_perm("accounts.view_all_conversations"):
        return context
    tenant, tenants = _tenant(authed)
    if tenant is None:
        return context
    period = _period(request)
    figures = dashboard_figures(tenant=tenant, days=period)
    picked = tenant.slug if tenants else None
    context["dashboard"] = {
        "tenant": tenant,
        "tenants": tenants,
        "period": period,
        "periods": [
            {
                "title": f"{days} days",
                "link": _query(period=days, tenant=picked),
                "active": days == period,
            }
            for days in PERIODS
        ],
        "period_info": figures["period"],
        "missing_days": len(figures["period"]["missing_days"]),
        "cards": _cards(figures),
        "charts": _charts(figures),
        "hitl": _hitl(figures["hitl"]),
        "agents_table": _agents_table(figures["by_agent"]),
    }
    return context


def _cards(figures: dict[str, Any]) -> list[dict[str, Any]]:
    totals, live, response, hitl = (
        figures["totals"],
        figures["live"],
        figures["response_time"],
        figures["hitl"],
    )
    try:
        queue = reverse("admin:hitl_approval_changelist")
    except NoReverseMatch:
        queue = ""
    return [
        {
            "key": "active_conversations",
            "title": "Active conversations",
            "value": live["active_conversations"],
            "footer": "A message in the last 15 minutes",
        },
        {
            "key": "messages_last_hour",
            "title": "Messages in the last hour",
            "value": live["messages_last_hour"],
            "footer": f"{totals['messages']:,} in the period",
        },
        {
            "key": "response_time",
            "title": "Response time (average)",
            "value": ms_text(response["avg_ms"]),
            "footer": f"p95 {ms_text(response['p95'])} · p50 {ms_text(response['p50'])}",
        },
        {
            "key": "hitl_pending",
            "title": "Approvals waiting",
            "value": hitl["pending"],
            "footer": f"{hitl['breached']} past their deadline",
            "alert": hitl["breached"] > 0,
            "href": queue,
        },
        {
            "key": "csat",
            "title": "CSAT",
            "value": f"{totals['csat']:.2f} / 5" if totals["csat"] is not None else BLANK,
            "footer": f"{totals['csat_count']:,} ratings",
        },
        {
            "key": "resolution_rate",
            "title": "Resolution rate",
            "value": rate_text(totals["resolution_rate"]),
            "footer": f"Escalated {rate_text(totals['escalation_rate'])} of "
            f"{totals['conversations_settled']:,} settled",
        },
        {
            "key": "conversations",
            "title": "Conversations",
            "value": f"{totals['conversations']:,}",
            "footer": "Started in the period",
        },
        {
            "key": "cost",
            "title": "Cost",
            "value": money_text(totals["cost_usd"]),
            "footer": f"{money_text(totals['cost_per_conversation_usd'])} per conversation · "
            f"WhatsApp {money_text(totals['whatsapp_cost_usd'])}",
        },
    ]


def _label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _charts(figures: dict[str, Any]) -> dict[str, dict[str, str]]:
    series, channels = figures["series"], figures["by_channel"]
    # The last day is today, so far: its figures are still moving.
    labels = [_label(point["date"]) for point in series[:-1]] + ["Today"]
    conversations = {
        "labels": labels,
        "datasets": [
            {
                "label": channel["name"],
                "data": [
                    point["conversations_by_channel"].get(channel["channel"], 0) for point in series
                ],
                "backgroundColor": CHANNEL_COLOURS.get(channel["channel"], "#64748b"),
                "stack": "conversations",
            }
            for channel in channels
            if channel["channel"]
        ],
    }
    share = {
        "labels": [c["name"] for c in channels if c["channel"] and c["conversations"]],
        "datasets": [
            {
                "data": [
                    c["conversations"] for c in channels if c["channel"] and c["conversations"]
                ],
                "backgroundColor": [
                    CHANNEL_COLOURS.get(c["channel"], "#64748b")
                    for c in channels
                    if c["channel"] and c["conversations"]
                ],
            }
        ],
    }
    response = {
        "labels": labels,
        "datasets": [
            {
                "label": name,
                "data": [point[f"response_{name}"] for point in series],
                "borderColor": colour,
                "backgroundColor": colour,
                "spanGaps": True,
                "pointRadius": 2 if len(series) <= 31 else 0,
            }
            for name, colour in PERCENTILE_COLOURS.items()
        ],
    }
    approvals = {
        "labels": labels,
        "datasets": [
            {
                "label": outcome.capitalize(),
                "data": [point[f"approvals_{outcome}"] for point in series],
                "backgroundColor": colour,
                "stack": "approvals",
            }
            for outcome, colour in APPROVAL_COLOURS.items()
        ],
    }
    stacked = {
        **BASE_OPTIONS,
        "datasets": {"bar": {"borderRadius": 3, "maxBarThickness": 28}},
        "scales": {
            "x": {"stacked": True, "grid": {"display": False}, "ticks": X_TICKS},
            "y": {"stacked": True, "beginAtZero": True, "ticks": {**TICKS, "precision": 0}},
        },
    }
    lines = {
        **BASE_OPTIONS,
        "scales": {
            "x": {"grid": {"display": False}, "ticks": X_TICKS},
            "y": {
                "beginAtZero": True,
                "ticks": TICKS,
                "title": {"display": True, "text": "ms", "color": "#9ca3af"},
            },
        },
    }
    doughnut = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "cutout": "62%",
        "plugins": {"legend": {**LEGEND, "position": "bottom", "align": "center"}},
    }
    # A third of the width: fewer dates fit under the approvals.
    narrow = {
        **stacked,
        "scales": {
            **stacked["scales"],
            "x": {**stacked["scales"]["x"], "ticks": {**X_TICKS, "maxTicksLimit": 4}},
        },
    }
    return {
        name: {"type": kind, "data": json.dumps(data), "options": json.dumps(options)}
        for name, kind, data, options in (
            ("conversations", "bar", conversations, stacked),
            ("share", "doughnut", share, doughnut),
            ("response", "line", response, lines),
            ("approvals", "bar", approvals, narrow),
        )
    }


def _hitl(hitl: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"label": "Waiting", "value": hitl["pending"]},
        {"label": "Approved", "value": hitl["approved"]},
        {"label": "Rejected", "value": hitl["rejected"]},
        {"label": "Expired", "value": hitl["expired"]},
        {"label": "Average time to decision", "value": hours_text(hitl["avg_decision_seconds"])},
        {"label": "SLA compliance", "value": rate_text(hitl["sla_compliance"])},
    ]


def _agents_table(agents: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "headers": [
            "Agent",
            "Conversations",
            "Messages",
            "CSAT",
            "Active 24 h",
            "Resolved",
            "Confidence",
            "HITL",
            "p95",
            "Cost",
            "Per conv.",
        ],
        "rows": [
            [
                agent["name"],
                f"{agent['conversations']:,}",
                f"{agent['messages']:,}",
                f"{agent['csat']:.2f}" if agent["csat"] is not None else BLANK,
                agent["active"],
                rate_text(agent["resolution_rate"]),
                f"{agent['avg_confidence']:.2f}" if agent["avg_confidence"] is not None else BLANK,
                rate_text(agent["hitl_rate"]),
                ms_text(agent["response_time"]["p95"]),
                money_text(agent["cost_usd"]),
                money_text(agent["cost_per_conversation_usd"]),
            ]
            for agent in agents
        ],
    }
