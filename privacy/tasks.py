from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from privacy.services import data_export_run


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def data_export_task(request_id: int) -> bool:
    """Build the export a member of staff asked for. Safe to run twice: the request is claimed."""
    return data_export_run(request_id=request_id)
