"""Writing the daily rollups: one day of one tenant at a time, idempotently, and the nightly
backfill of every ended day that is missing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts.models import Tenant
from agents.models import AgentRun
from channels_app.models import Conversation
from hitl.models import Approval
from monitoring.analytics.figures import day_figures, local_today, zone_of
from monitoring.analytics.histogram import percentiles_exact
from monitoring.models import DailyRollup, RollupDay

logger = logging.getLogger(__name__)

BACKFILL_DAYS = 90
# Outcomes (a rating, 24 h of quiet after a reply) land after the day a conversation started:
# the nightly run computes these last ended days again.
REFRESH_DAYS = 3


def rollup_day(*, tenant: Tenant, day: date, now: datetime | None = None) -> RollupDay:
    """Compute one ended local day of the tenant again, replacing whatever was stored for it:
    running it twice leaves the same rows."""
    now = now or timezone.now()
    if day >= local_today(tenant, now):
        raise ValueError(f"{day} has not ended in {tenant.time_zone}: it is computed live.")
    figures = day_figures(tenant=tenant, day=day, now=now)
    exact = percentiles_exact(figures.response_times)
    with transaction.atomic():
        marker, _ = RollupDay.objects.update_or_create(
            tenant=tenant,
            day=day,
            defaults={
                "time_zone": tenant.time_zone,
                "computed_at": now,
                "replies_timed": len(figures.response_times),
                "response_p50": exact[50],
                "response_p95": exact[95],
                "response_p99": exact[99],
            },
        )
        marker.rows.all().delete()
        DailyRollup.objects.bulk_create(
            DailyRollup(
                rollup_day=marker,
                tenant=tenant,
                day=day,
                channel=channel,
                agent_type=agent_type,
                **row.stored(),
            )
            for (channel, agent_type), row in sorted(figures.rows.items())
        )
    return marker


def first_activity(tenant: Tenant) -> date | None:
    """The local day of the tenant's first conversation, agent run or approval."""
    firsts = [
        Conversation.objects.filter(tenant=tenant).aggregate(at=Min("started_at"))["at"],
        AgentRun.objects.filter(tenant=tenant).aggregate(at=Min("created_at"))["at"],
        Approval.objects.filter(tenant=tenant).aggregate(at=Min("created_at"))["at"],
    ]
    known = [at for at in firsts if at is not None]
    return min(known).astimezone(zone_of(tenant)).date() if known else None


@dataclass
class BackfillResult:
    days: int = 0
    failed_tenants: list[int] = field(default_factory=list)


def rollups_backfill(
    *, now: datetime | None = None, days: int = BACKFILL_DAYS, refresh_days: int = REFRESH_DAYS
) -> BackfillResult:
    """For every active tenant, roll up each local day that has ended and is missing, from the
    tenant's first activity or `days` ago, whichever is later, and the last `refresh_days`
    ended days again. One tenant failing does not stop the others."""
    now = now or timezone.now()
    result = BackfillResult()
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        try:
            result.days += _tenant_backfill(tenant, now=now, days=days, refresh_days=refresh_days)
        except Exception:
            logger.exception("rollups: tenant %s failed", tenant.pk)
            result.failed_tenants.append(tenant.pk)
    return result


def _tenant_backfill(tenant: Tenant, *, now: datetime, days: int, refresh_days: int) -> int:
    today = local_today(tenant, now)
    first = first_activity(tenant)
    if first is None:
        return 0
    start = max(first, today - timedelta(days=days))
    done = set(
        RollupDay.objects.filter(tenant=tenant, day__gte=start, day__lt=today).values_list(
            "day", flat=True
        )
    )
    refresh_from = today - timedelta(days=refresh_days)
    ended = (start + timedelta(days=n) for n in range((today - start).days))
    todo = [day for day in ended if day not in done or day >= refresh_from]
    for day in todo:
        rollup_day(tenant=tenant, day=day, now=now)
    return len(todo)
