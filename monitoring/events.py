from __future__ import annotations

from typing import Any

from monitoring.models import Event


def event_record(
    *,
    tenant: Any,
    kind: str,
    conversation: Any = None,
    message: Any = None,
    channel: str = "",
    agent_type: str = "",
    duration_ms: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Write one event. `data` must hold no PII: ids, counts, timings, statuses only."""
    if conversation is not None:
        channel = channel or conversation.channel
        agent_type = agent_type or conversation.current_agent_type
    return Event.objects.create(
        tenant=tenant,
        kind=kind,
        conversation=conversation,
        message=message,
        channel=channel,
        agent_type=agent_type,
        duration_ms=duration_ms,
        data=data or {},
    )
