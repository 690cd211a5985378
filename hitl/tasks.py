from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from hitl.sla import sla_sweep


@shared_task(acks_late=True)
def monitor_hitl_sla_task() -> dict[str, int]:
    result = asdict(sla_sweep())
    result.pop("ids")
    return result
