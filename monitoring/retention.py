"""monitoring's retention policy (the PRD's table), registered with privacy.retention: the
aggregated analytics, 730 days. A rolled-up day older than that is deleted with its rows; the
nightly backfill never reaches back that far (analytics.rollups.BACKFILL_DAYS), so it is not
computed again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from monitoring.models import RollupDay
from privacy.retention import retention_register


def _days_expired(*, now: datetime, cutoff: datetime) -> QuerySet[RollupDay]:
    # A day is past retention once all of it is: it ended before the cutoff.
    return RollupDay.objects.filter(day__lt=cutoff.date())


def _days_delete(*, pks: list[Any], now: datetime) -> int:
    _, deleted = RollupDay.objects.filter(pk__in=pks).delete()
    return deleted.get(RollupDay._meta.label, 0)


retention_register(
    name="platform_event_logs.aggregated_analytics",
    action="delete",
    description="Rolled-up days older than this are deleted, with their rollup rows (per "
    "channel and agent).",
    expired=_days_expired,
    remove=_days_delete,
)
