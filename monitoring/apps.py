from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from agents.analytics import conversation_figures_register
        from monitoring import retention  # noqa: F401  (registers the rollups' retention)
        from monitoring.analytics.selectors import agent_conversation_figures

        # The agents' analytics API sits below the conversations: the console lends it the
        # conversation figures it cannot read itself.
        conversation_figures_register(agent_conversation_figures)
