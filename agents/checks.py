"""System checks for the agents' outside service, Langflow: a warning at `check` and `migrate`
instead of an error result at the first message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks
from django.db.utils import OperationalError, ProgrammingError

from agents.models import AgentInstance
from agents.types import BackendKind


@checks.register()
def check_langflow_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    url, key = settings.LANGFLOW_API_URL, settings.LANGFLOW_API_KEY
    warnings: list[checks.CheckMessage] = []
    if key and not url:
        warnings.append(
            checks.Warning(
                "LANGFLOW_API_KEY is set but LANGFLOW_API_URL is empty: no flow can run.",
                hint="Set LANGFLOW_API_URL to your Langflow server, e.g. http://langflow:7860.",
                id="agents.W002",
            )
        )
    if url and not key:
        warnings.append(
            checks.Warning(
                "LANGFLOW_API_URL is set without LANGFLOW_API_KEY: Langflow answers 403 to "
                "unauthenticated runs unless its authentication is off.",
                hint="Set LANGFLOW_API_KEY, or silence agents.W003 if your Langflow needs no key.",
                id="agents.W003",
            )
        )
    if url and not url.startswith(("http://", "https://")):
        warnings.append(
            checks.Warning(
                "LANGFLOW_API_URL must start with http:// or https://.",
                id="agents.W004",
            )
        )
    return warnings


@checks.register(checks.Tags.database)
def check_langflow_instances(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    # Database checks run only when asked for a database (`migrate`, `check --database`), like
    # Django's own.
    if not databases or settings.LANGFLOW_API_URL:
        return []
    for alias in databases:
        try:
            count = AgentInstance.objects.using(alias).filter(backend=BackendKind.LANGFLOW).count()
        except (OperationalError, ProgrammingError):
            # `migrate` checks before it migrates: on a new database the table does not exist yet,
            # and then no instance can use Langflow.
            continue
        if count:
            return [
                checks.Warning(
                    f"{count} agent instance(s) use the Langflow backend but LANGFLOW_API_URL is "
                    "empty: they answer every message with an error.",
                    hint="Set LANGFLOW_API_URL (and LANGFLOW_API_KEY), or switch those instances "
                    "to the built-in backend.",
                    id="agents.W001",
                )
            ]
    return []
