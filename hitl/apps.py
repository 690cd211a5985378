from __future__ import annotations

from django.apps import AppConfig


class HitlConfig(AppConfig):
    name = "hitl"
    verbose_name = "Approvals (human in the loop)"

    def ready(self) -> None:
        # Personal data (export, erasure) and retention policies, registered with privacy.
        from accounts.services import TENANT_SETUP_HOOKS
        from hitl import (
            personal_data,  # noqa: F401
            retention,  # noqa: F401
        )
        from hitl.agent_actions import agent_actions_register
        from hitl.workflows import workflows_seed

        agent_actions_register()
        if workflows_seed not in TENANT_SETUP_HOOKS:
            TENANT_SETUP_HOOKS.append(workflows_seed)
