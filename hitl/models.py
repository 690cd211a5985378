"""Approvals: what waits for a human. This is the record the turn engine writes when it holds a
reply; the HITL issue adds risk scoring, workflows, levels and SLAs on top of it."""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet


class HoldReason(models.TextChoices):
    LOW_CONFIDENCE = "low_confidence", "Confidence under the tenant's threshold"
    ACTION = "action_needs_approval", "A proposed action needs approval"
    HUMAN_REQUESTED = "human_requested", "The person asked for a human"
    MANUAL_MODE = "manual_mode", "The tenant reviews every reply"
    TAKEOVER = "human_takeover", "A human has taken over the conversation"
    AGENT_ERROR = "agent_error", "The agent could not answer"


class Approval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ESCALATED = "escalated", "Escalated"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        EXPIRED = "expired", "Expired"
        AUTO_APPROVED = "auto_approved", "Auto-approved"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    requested_by_agent = models.CharField(max_length=32, blank=True)
    action_type = models.CharField(max_length=32, help_text="held_reply, or an agent action.")
    action_data = models.JSONField(default=dict, blank=True)
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    estimated_reach = models.PositiveBigIntegerField(null=True, blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    # Referenced by name: approvals sit below the channels and never import them.
    conversation = models.ForeignKey(
        "channels_app.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approvals",
    )
    message = models.ForeignKey(
        "channels_app.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approvals",
        help_text="The held reply.",
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Granted per approval (django-guardian) to the people who may decide its current level.
        permissions = [("decide_approval", "Can decide this approval")]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="approval_queue"),
        ]

    def __str__(self) -> str:
        return f"Approval #{self.pk} ({self.action_type}, {self.get_status_display()})"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


auditlog.register(Approval)
