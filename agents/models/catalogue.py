from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet
from agents.types import DEFAULT_CONFIDENCE_THRESHOLD, AgentMode, AgentType, BackendKind


class WalkerAgent(models.Model):
    """An agent of the catalogue. Written by En Garde's migrations only: system-protected."""

    agent_type = models.CharField(max_length=32, choices=AgentType.choices, unique=True)
    name = models.CharField(max_length=100)
    purpose = models.CharField(max_length=200)
    capabilities = models.JSONField(default=list)
    platforms = models.JSONField(default=list)
    # The four Walker agents count against a tier's limit; the personal agent (briefs) does not.
    counts_toward_limit = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class AgentInstance(models.Model):
    """A tenant's copy of a catalogue agent: whether it runs, and on which backend."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="agent_instances")
    agent = models.ForeignKey(WalkerAgent, on_delete=models.PROTECT, related_name="instances")
    enabled = models.BooleanField(default=False)
    backend = models.CharField(
        max_length=16, choices=BackendKind.choices, default=BackendKind.BUILTIN
    )
    flow_id = models.CharField(
        max_length=100, blank=True, help_text="The Langflow flow to run (Langflow backend only)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["tenant", "agent_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent"],
                name="one_instance_per_agent_per_tenant",
                violation_error_message="This tenant already has this agent.",
            ),
            models.CheckConstraint(
                condition=~Q(backend=BackendKind.LANGFLOW) | ~Q(flow_id=""),
                name="langflow_instance_needs_flow_id",
                violation_error_message="The Langflow backend needs a flow id.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} ({self.tenant})"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


class AgentSettings(models.Model):
    """Per tenant: how autonomous the agents are, and below what confidence a reply is held."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="agent_settings")
    mode = models.CharField(max_length=16, choices=AgentMode.choices, default=AgentMode.SEMI_AUTO)
    confidence_threshold = models.FloatField(
        default=DEFAULT_CONFIDENCE_THRESHOLD,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Replies with a lower confidence wait for a human (0 to 1).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "agent settings"
        verbose_name_plural = "agent settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence_threshold__gte=0.0, confidence_threshold__lte=1.0),
                name="agent_threshold_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        return f"Agent settings of {self.tenant}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


auditlog.register(AgentInstance)
auditlog.register(AgentSettings)
