from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Walker agents"

    def ready(self) -> None:
        from accounts.services import TENANT_SETUP_HOOKS
        from agents import checks  # noqa: F401
        from agents.services import provision_hook

        if provision_hook not in TENANT_SETUP_HOOKS:
            TENANT_SETUP_HOOKS.append(provision_hook)
