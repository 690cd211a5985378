from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from channels_app.email.sending import briefs_batch_send, briefs_dispatch


@shared_task(acks_late=True)
def briefs_dispatch_task() -> int:
    """Every 15 minutes (engarde/schedules.py): hand out the briefs whose time has come."""
    return sum(run.due for run in briefs_dispatch(now=timezone.now()))


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def briefs_batch_task(
    run_id: int, items: list[list[int | str]], attempt: int = 0, batch: str = ""
) -> int:
    """Send a batch of one run's briefs. Safe to run twice: each brief is claimed, and the
    batch is counted once."""
    outcomes = briefs_batch_send(
        run_id=run_id,
        items=[(int(pk), str(day)) for pk, day in items],
        attempt=attempt,
        batch=batch,
    )
    return outcomes["sent"]
