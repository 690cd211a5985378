from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from engarde.schedules import PERIODIC_TASKS


class Command(BaseCommand):
    help = "Write the periodic tasks declared in engarde/schedules.py to django-celery-beat."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for name, spec in PERIODIC_TASKS.items():
            schedule, _ = IntervalSchedule.objects.get_or_create(
                every=spec["every_seconds"], period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": spec["task"],
                    "interval": schedule,
                    "crontab": None,
                    "enabled": True,
                    "description": spec.get("description", ""),
                    "kwargs": json.dumps(spec.get("kwargs", {})),
                },
            )
            self.stdout.write(f"{name}: {spec['task']} every {spec['every_seconds']} s")
        # Tasks once declared here and since removed must stop running.
        stale = PeriodicTask.objects.exclude(name__in=PERIODIC_TASKS).exclude(
            name__startswith="celery."
        )
        for task in stale:
            self.stdout.write(f"{task.name}: no longer declared, disabled")
        stale.update(enabled=False)
