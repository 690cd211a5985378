from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from engarde.schedules import PERIODIC_TASKS, PeriodicTaskSpec


class Command(BaseCommand):
    help = "Write the periodic tasks declared in engarde/schedules.py to django-celery-beat."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for name, spec in PERIODIC_TASKS.items():
            schedules, when = self._schedule(spec)
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": spec["task"],
                    **schedules,
                    "enabled": True,
                    "description": spec.get("description", ""),
                    "kwargs": json.dumps(spec.get("kwargs", {})),
                },
            )
            self.stdout.write(f"{name}: {spec['task']} {when}")
        # Tasks once declared here and since removed must stop running.
        stale = PeriodicTask.objects.exclude(name__in=PERIODIC_TASKS).exclude(
            name__startswith="celery."
        )
        for task in stale:
            self.stdout.write(f"{task.name}: no longer declared, disabled")
        stale.update(enabled=False)

    def _schedule(self, spec: PeriodicTaskSpec) -> tuple[dict[str, Any], str]:
        """The task's schedule (exactly one kind is set, the other cleared) and how to say it."""
        if "crontab" in spec:
            minute, hour = spec["crontab"]["minute"], spec["crontab"]["hour"]
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
            )
            return {"interval": None, "crontab": crontab}, f"at {minute} {hour} * * * (UTC)"
        every = spec["every_seconds"]
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=every, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval, "crontab": None}, f"every {every} s"
