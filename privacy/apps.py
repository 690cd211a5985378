from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy and compliance"

    def ready(self) -> None:
        from privacy import checks  # noqa: F401
