from __future__ import annotations

from django.apps import AppConfig


class HitlConfig(AppConfig):
    name = "hitl"
    verbose_name = "Approvals (human in the loop)"
