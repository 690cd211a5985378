from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Tenant
from agents.backends.base import AgentContext, AgentResult, Backend, ContextMessage
from agents.backends.builtin import BuiltinBackend
from agents.models import AgentInstance, AgentRun, AgentSettings, WalkerAgent
from agents.models.runs import CONVERSATION_MODEL
from agents.types import BackendKind

logger = logging.getLogger(__name__)


def agent_settings_for(tenant: Tenant) -> AgentSettings:
    settings, _ = AgentSettings.objects.get_or_create(tenant=tenant)
    return settings


@transaction.atomic
def tenant_agents_provision(*, tenant: Tenant) -> list[AgentInstance]:
    """Give a tenant an instance of every catalogue agent (disabled unless it exists already)
    and its agent settings. Idempotent."""
    agent_settings_for(tenant)
    existing = set(AgentInstance.objects.filter(tenant=tenant).values_list("agent_id", flat=True))
    AgentInstance.objects.bulk_create(
        [
            AgentInstance(tenant=tenant, agent=agent)
            for agent in WalkerAgent.objects.exclude(pk__in=existing)
        ]
    )
    return list(AgentInstance.objects.filter(tenant=tenant).select_related("agent"))


def tier_limit_check(*, instance: AgentInstance) -> None:
    """Raise if enabling this instance would take its tenant over its tier's Walker agent limit.

    The caller holds a lock on the tenant row, so two admins enabling agents at once cannot both
    pass the check.
    """
    if not instance.enabled or not instance.agent.counts_toward_limit:
        return
    limit = instance.tenant.limits.walker_agents
    if limit is None:
        return
    others = (
        AgentInstance.objects.filter(
            tenant=instance.tenant, enabled=True, agent__counts_toward_limit=True
        )
        .exclude(pk=instance.pk)
        .count()
    )
    if others + 1 > limit:
        tier = instance.tenant.get_tier_display()
        raise ValidationError(
            {
                "enabled": (
                    f"The {tier} plan includes {limit} Walker agent{'s' if limit != 1 else ''} "
                    f"and {others} {'are' if others != 1 else 'is'} already enabled. Disable "
                    "one first, or upgrade the plan."
                )
            },
            code="tier_limit",
        )


@transaction.atomic
def agent_instance_update(
    *,
    instance: AgentInstance,
    enabled: bool | None = None,
    backend: str | None = None,
    flow_id: str | None = None,
) -> AgentInstance:
    """Change what a tenant admin may change: on/off, backend, flow id. Nothing else."""
    Tenant.objects.select_for_update().filter(pk=instance.tenant_id).first()
    if enabled is not None:
        instance.enabled = enabled
    if backend is not None:
        instance.backend = backend
    if flow_id is not None:
        instance.flow_id = flow_id.strip()
    instance.full_clean(exclude=["tenant", "agent"])
    tier_limit_check(instance=instance)
    instance.save(update_fields=["enabled", "backend", "flow_id", "updated_at"])
    return instance


def provision_hook(tenant: Tenant) -> None:
    tenant_agents_provision(tenant=tenant)


class AgentUnavailable(Exception):
    """The tenant has no enabled instance of this agent."""


def backend_for(kind: str) -> Backend:
    if kind == BackendKind.LANGFLOW:
        from agents.backends.langflow import LangflowBackend

        return LangflowBackend()
    return BuiltinBackend()


def conversation_exists(*, tenant: Tenant, conversation_id: int) -> bool:
    """Whether the tenant has this conversation. Conversations live in a layer above the agents:
    the model is looked up by the name AgentRun's foreign key gives, never imported."""
    conversation_model = apps.get_model(CONVERSATION_MODEL)
    return bool(
        conversation_model._default_manager.filter(pk=conversation_id, tenant=tenant).exists()
    )


def agent_execute(
    *,
    instance: AgentInstance,
    message: str,
    history: Sequence[ContextMessage] = (),
    conversation_id: int | None = None,
    session_id: str = "",
) -> tuple[AgentResult, AgentRun]:
    """Run an enabled agent instance on a message and record the run (timing, tokens, cost).

    Whatever goes wrong inside the backend ends as an error result: the caller, a turn of a
    conversation, always has something to say and record.
    """
    if not instance.enabled:
        raise AgentUnavailable(f"{instance.agent.name} is not enabled for this workspace.")
    tenant = instance.tenant
    context = AgentContext(
        tenant=tenant,
        instance=instance,
        messages=tuple(history),
        conversation_id=conversation_id,
        session_id=session_id,
    )
    backend = backend_for(instance.backend)
    started = time.perf_counter()
    try:
        result = backend.run(instance.agent, message, context)
    except Exception:
        # A bug in a backend must not take the turn down with it; it is logged with its stack.
        logger.exception("agent backend %s failed for tenant %s", backend.kind, tenant.pk)
        result = AgentResult.failure(
            "internal_error", "Sorry, something went wrong on our side. A person will follow up."
        )
    latency_ms = int((time.perf_counter() - started) * 1000)
    threshold = agent_settings_for(tenant).confidence_threshold
    run = AgentRun.objects.create(
        tenant=tenant,
        agent_type=instance.agent.agent_type,
        backend=backend.kind,
        conversation_id=conversation_id,
        status=AgentRun.Status.OK if result.ok else AgentRun.Status.ERROR,
        error_code=result.error,
        confidence=result.confidence if result.ok else None,
        latency_ms=latency_ms,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost_usd=result.cost_usd,
        action_count=len(result.actions),
        needs_review=result.ok and (result.confidence < threshold or bool(result.actions)),
    )
    return result, run
