from __future__ import annotations

from celery import shared_task

from monitoring.analytics.rollups import rollups_backfill


@shared_task(acks_late=True)
def rollups_nightly_task() -> dict[str, object]:
    """Nightly at 01:00 UTC (engarde/schedules.py): for each tenant, roll up every local day
    that has ended and is missing, and the last few again. Safe to run twice: a day is
    replaced, never added to."""
    result = rollups_backfill()
    return {"days": result.days, "failed_tenants": result.failed_tenants}
