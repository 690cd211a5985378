from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Walker agents"

    def ready(self) -> None:
        # Personal data (export, erasure), registered with privacy.
        from django.db.models.signals import post_migrate

        from accounts.services import TENANT_SETUP_HOOKS
        from agents import (
            checks,  # noqa: F401
            personal_data,  # noqa: F401
        )
        from agents.catalogue import catalogue_sync_after_migrate

        post_migrate.connect(catalogue_sync_after_migrate, dispatch_uid="agents.catalogue")
        from agents.services import provision_hook

        if provision_hook not in TENANT_SETUP_HOOKS:
            TENANT_SETUP_HOOKS.append(provision_hook)
