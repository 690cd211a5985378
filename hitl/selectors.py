from __future__ import annotations

import math
import statistics
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from accounts.models import User
from hitl.models import OPEN_STATUSES, Approval


def approvals_awaiting(user: User) -> QuerySet[Approval]:
    """Open approvals (pending or escalated) of the user's tenant that the user may decide now."""
    if user.tenant_id is None:
        return Approval.objects.none()
    return get_objects_for_user(
        user,
        "hitl.decide_approval",
        klass=Approval.objects.for_tenant(user.tenant).filter(status__in=OPEN_STATUSES),
        accept_global_perms=False,
    )


def approval_queue(
    *,
    user: User,
    status: str | None = None,
    priority: str | None = None,
    risk_level: str | None = None,
    assigned_to: User | None = None,
) -> QuerySet[Approval]:
    """The tenant's approvals, soonest deadline first; open ones unless a status is asked for."""
    approvals = Approval.objects.for_tenant(user.tenant)
    if status in (None, "", "open"):
        approvals = approvals.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        approvals = approvals.filter(status=status)
    if priority:
        approvals = approvals.filter(priority=priority)
    if risk_level:
        approvals = approvals.filter(risk_level=risk_level)
    if assigned_to is not None:
        approvals = approvals.filter(
            pk__in=get_objects_for_user(
                assigned_to, "hitl.decide_approval", klass=Approval, accept_global_perms=False
            ).values("pk")
        )
    return approvals.select_related("requested_by", "workflow", "assigned_to").order_by(
        F("sla_deadline").asc(nulls_last=True), "created_at", "id"
    )


def queue_summary(*, user: User) -> dict[str, int]:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    approvals = Approval.objects.for_tenant(user.tenant)
    return approvals.aggregate(
        pending=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        awaiting_you=Count(
            "id",
            filter=Q(pk__in=approvals_awaiting(user).values("pk")),
        ),
        approved_today=Count(
            "id",
            filter=Q(status__in=["approved", "auto_approved"], decided_at__gte=start),
        ),
        rejected_today=Count("id", filter=Q(status="rejected", decided_at__gte=start)),
        breached=Count("id", filter=Q(status__in=OPEN_STATUSES, sla_breached=True)),
    )


def _percentile(sorted_values: list[float], share: float) -> float | None:
    if not sorted_values:
        return None
    # Nearest rank: the smallest value with at least `share` of the values at or below it.
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def hitl_analytics(*, tenant: Any, since: datetime) -> dict[str, Any]:
    approvals = Approval.objects.for_tenant(tenant).filter(created_at__gte=since)
    by_status = dict(
        approvals.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    by_level = dict(
        approvals.filter(status__in=OPEN_STATUSES)
        .values_list("current_level")
        .annotate(n=Count("id"))
        .values_list("current_level", "n")
    )
    human = approvals.filter(
        status__in=["approved", "rejected", "changes_requested"], decided_by__isnull=False
    )
    minutes = sorted(
        (decided - created).total_seconds() / 60
        for created, decided in human.values_list("created_at", "decided_at")
    )
    decided_with_sla = human.filter(sla_deadline__isnull=False)
    within = decided_with_sla.filter(sla_breached=False).count()
    total = approvals.count()
    auto = by_status.get("auto_approved", 0)

    def grouped(field: str) -> list[dict[str, Any]]:
        rows = (
            approvals.values(field)
            .annotate(
                total=Count("id"),
                approved=Count("id", filter=Q(status="approved")),
                auto_approved=Count("id", filter=Q(status="auto_approved")),
                rejected=Count("id", filter=Q(status="rejected")),
                open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
                breached=Count("id", filter=Q(sla_breached=True)),
            )
            .order_by("-total", field)
        )
        return [{**row, field: row[field] or None} for row in rows]

    decided_count = decided_with_sla.count()
    return {
        "since": since,
        "total": total,
        "by_status": {value: by_status.get(value, 0) for value in Approval.Status.values},
        "open_by_level": {str(level): n for level, n in sorted(by_level.items())},
        "time_to_decision_minutes": {
            "decided": len(minutes),
            "median": _round(statistics.median(minutes)) if minutes else None,
            "p95": _round(_percentile(minutes, 0.95)),
        },
        "sla": {
            "decided_with_sla": decided_count,
            "within_sla": within,
            "compliance_percent": _round(100 * within / decided_count) if decided_count else None,
            "breaches": approvals.filter(sla_breached=True).count(),
        },
        "auto_approval_rate_percent": _round(100 * auto / total) if total else None,
        "by_action_type": grouped("action_type"),
        "by_agent": grouped("requested_by_agent"),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
