from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy and compliance"

    def ready(self) -> None:
        # Personal data (export, erasure) and retention policies, registered with privacy.
        # Celery's autodiscovery finds only `tasks` modules: the retention task is imported here.
        from privacy import (
            checks,  # noqa: F401
            personal_data,  # noqa: F401
            retention,  # noqa: F401
            retention_tasks,  # noqa: F401
        )
