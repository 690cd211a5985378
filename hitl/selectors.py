from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, F, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
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


def approvals_awaiting_each(users: Sequence[User]) -> dict[int, list[Approval]]:
    """`approvals_awaiting` for many users in three queries whatever their number (a batch of
    email briefs): each user's list, oldest first (`created_at`, then `id`). The same rule as
    guardian's `get_objects_for_user` there: a superuser may decide all of their tenant's open
    approvals, anyone else those granted to them or to one of their groups, per object (in
    guardian's generic permission tables, where `approvals_awaiting` finds them too)."""
    awaiting: dict[int, list[Approval]] = {user.pk: [] for user in users}
    members = [user for user in users if user.tenant_id is not None]
    if not members:
        return awaiting
    open_approvals = Approval.objects.filter(
        tenant_id__in={user.tenant_id for user in members}, status__in=OPEN_STATUSES
    )
    approvals = list(open_approvals.order_by("created_at", "id"))
    if not approvals:
        return awaiting
    plain = [user for user in members if not user.is_superuser]
    granted: set[tuple[int, str]] = set()
    if plain:
        permission = Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(Approval), codename="decide_approval"
        )
        object_pks = open_approvals.annotate(str_pk=Cast("pk", CharField())).values("str_pk")
        granted.update(
            UserObjectPermission.objects.filter(
                user__in=plain, permission__in=permission, object_pk__in=object_pks
            ).values_list("user_id", "object_pk")
        )
        granted.update(
            GroupObjectPermission.objects.filter(
                group__user__in=plain, permission__in=permission, object_pk__in=object_pks
            ).values_list("group__user", "object_pk")
        )
    for user in members:
        awaiting[user.pk] = [
            approval
            for approval in approvals
            if approval.tenant_id == user.tenant_id
            and (user.is_superuser or (user.pk, str(approval.pk)) in granted)
        ]
    return awaiting


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
