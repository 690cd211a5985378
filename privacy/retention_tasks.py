from __future__ import annotations

from celery import shared_task

from privacy.retention import retention_apply


@shared_task(acks_late=True)
def retention_apply_task() -> int:
    """Nightly at 02:30 UTC (engarde/schedules.py): apply the retention policies. Safe to run
    again after a worker dies mid-way: what was done is not done twice. The run's id."""
    return retention_apply(dry_run=False).pk
