"""What agents holds about a person, registered with privacy's registry (export, erasure)."""

from __future__ import annotations

from agents.models import AgentRun
from privacy.registry import erase_keep, export_values, personal_data_register

personal_data_register(
    AgentRun,
    subject="conversation__user",
    section="agent_runs",
    export=export_values(
        "conversation_id",
        "agent_type",
        "backend",
        "status",
        "error_code",
        "confidence",
        "latency_ms",
        "tokens_in",
        "tokens_out",
        "action_count",
        "needs_review",
        "created_at",
    ),
    # A run holds no text (its input and output are the conversation's messages, erased there):
    # what it cost and how it went stay for the per-agent analytics.
    erase=erase_keep,
)
