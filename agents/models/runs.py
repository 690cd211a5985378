from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet
from agents.types import AgentType, BackendKind

CONVERSATION_MODEL = "channels_app.Conversation"


class AgentRun(models.Model):
    """One backend run: what it cost and how it went. Holds no text (the messages do)."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Error"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="agent_runs")
    agent_type = models.CharField(max_length=32, choices=AgentType.choices)
    backend = models.CharField(max_length=16, choices=BackendKind.choices)
    # Conversations live in a layer above the agents: referred to by name, never imported.
    # A run outlives its conversation (the analytics count it), so deleting one keeps the run.
    conversation = models.ForeignKey(
        CONVERSATION_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agent_runs",
    )
    status = models.CharField(max_length=8, choices=Status.choices)
    error_code = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    action_count = models.PositiveSmallIntegerField(default=0)
    # Below the tenant's threshold or proposing an action that needs approval.
    needs_review = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "agent_type", "-created_at"], name="run_tenant_agent"),
            models.Index(fields=["tenant", "-created_at"], name="run_tenant_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_agent_type_display()} run #{self.pk}"
