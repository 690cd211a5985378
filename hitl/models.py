"""Approvals: what waits for a human, the workflows that say who decides it and how fast, and
the trail of everything that happened to it."""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Tenant
from accounts.roles import ALL_ROLES, MEMBER
from accounts.tenancy import TenantQuerySet
from privacy.masking import mask_text

HELD_REPLY = "held_reply"


class HoldReason(models.TextChoices):
    LOW_CONFIDENCE = "low_confidence", "Confidence under the tenant's threshold"
    ACTION = "action_needs_approval", "A proposed action needs approval"
    HUMAN_REQUESTED = "human_requested", "The person asked for a human"
    MANUAL_MODE = "manual_mode", "The tenant reviews every reply"
    TAKEOVER = "human_takeover", "A human has taken over the conversation"
    AGENT_ERROR = "agent_error", "The agent could not answer"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    IN_APP = "in_app", "In the console"


APPROVER_ROLES = [role for role in ALL_ROLES if role != MEMBER]


def _validate_subset(values: Any, allowed: list[str], what: str) -> None:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValidationError(f"A list of {what} names.")
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError(
            f"Unknown {what}: {', '.join(unknown)}. Choose from {', '.join(allowed)}."
        )


def validate_risk_levels(values: Any) -> None:
    _validate_subset(values, list(RiskLevel.values), "risk level")


def validate_roles(values: Any) -> None:
    _validate_subset(values, APPROVER_ROLES, "role")
    if not values:
        raise ValidationError("Name at least one role.")


def validate_notification_channels(values: Any) -> None:
    _validate_subset(values, list(NotificationChannel.values), "notification channel")


def validate_action_types(values: Any) -> None:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ValidationError("A list of action type names.")


class HITLWorkflow(models.Model):
    """Which approvals it covers (action types and risk levels; empty means any) and the levels
    they pass, in order. The most specific active workflow of the tenant wins."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="hitl_workflows")
    name = models.CharField(max_length=100)
    action_types = models.JSONField(
        default=list, blank=True, validators=[validate_action_types], help_text="Empty: any."
    )
    risk_levels = models.JSONField(
        default=list, blank=True, validators=[validate_risk_levels], help_text="Empty: any."
    )
    sla_hours = models.PositiveIntegerField(
        default=24, help_text="The whole approval's deadline, whatever its levels say."
    )
    escalation_hours = models.PositiveIntegerField(
        default=12, help_text="Undecided this long at a level, it moves up a level."
    )
    notification_channels = models.JSONField(
        default=list, blank=True, validators=[validate_notification_channels]
    )
    is_active = models.BooleanField(default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "HITL workflow"
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="hitl_workflow_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


class ApprovalLevel(models.Model):
    workflow = models.ForeignKey(HITLWorkflow, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField()
    approver_roles = models.JSONField(default=list, validators=[validate_roles])
    required_count = models.PositiveSmallIntegerField(default=1)
    sla_hours = models.PositiveIntegerField(default=24)

    tenant_lookup = "workflow__tenant"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["workflow", "level"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "level"], name="approval_level_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="approval_level_gte_1"),
            models.CheckConstraint(
                condition=Q(required_count__gte=1), name="approval_level_required_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"Level {self.level}: {', '.join(self.approver_roles)} ({self.required_count})"


OPEN_STATUSES = ("pending", "escalated")


class Approval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ESCALATED = "escalated", "Escalated"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        EXPIRED = "expired", "Expired"
        AUTO_APPROVED = "auto_approved", "Auto-approved"

    class Execution(models.TextChoices):
        NONE = "none", "Nothing to run"
        PENDING = "pending", "Waiting to run"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approval_requests",
    )
    requested_by_agent = models.CharField(max_length=32, blank=True)
    action_type = models.CharField(max_length=32, help_text="held_reply, or an agent action.")
    title = models.CharField(max_length=200, blank=True)
    action_data = models.JSONField(default=dict, blank=True)
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    estimated_reach = models.PositiveBigIntegerField(null=True, blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    risk_score = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    risk_factors = models.JSONField(default=list, blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
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
    workflow = models.ForeignKey(
        HITLWorkflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="approvals"
    )
    current_level = models.PositiveSmallIntegerField(default=1)
    level_started_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approvals_assigned",
        help_text="The person it was escalated to, if any.",
    )
    sla_deadline = models.DateTimeField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    sla_breach_minutes = models.PositiveIntegerField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current level's deadline passed."
    )
    escalate_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The earliest moment the SLA sweep has something to do with this approval: the sweep reads
    # only the rows whose moment has come, through a partial index.
    next_check_at = models.DateTimeField(null=True, blank=True)
    # What an agent's proposal acts on (its type and target, hashed): asking for the same thing
    # while it is open attaches to it instead of filing a copy. Blank for held replies and for
    # what people file.
    target_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approvals_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    execution_status = models.CharField(
        max_length=10, choices=Execution.choices, default=Execution.NONE
    )
    execution_result = models.JSONField(default=dict, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Granted per approval (django-guardian) to the people who may decide its current level.
        permissions = [("decide_approval", "Can decide this approval")]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="approval_queue"),
            models.Index(
                fields=["tenant", "sla_deadline"],
                name="approval_open_by_deadline",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["tenant", "target_key"],
                name="approval_open_by_target",
                condition=Q(status__in=OPEN_STATUSES) & ~Q(target_key=""),
            ),
            models.Index(
                fields=["next_check_at"],
                name="approval_sla_due",
                condition=Q(status__in=OPEN_STATUSES, next_check_at__isnull=False),
            ),
            models.Index(
                fields=["decided_at"],
                name="approval_execution_waiting",
                condition=Q(execution_status="pending"),
            ),
            models.Index(fields=["tenant", "requested_by", "status"], name="approval_requester"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_score__gte=0, risk_score__lte=100), name="approval_risk_0_100"
            ),
        ]

    def __str__(self) -> str:
        # Shown in breadcrumbs, pickers and the audit log: a title can quote the person.
        return f"Approval #{self.pk} ({mask_text(self.title) or self.action_type}, {self.status})"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_held_reply(self) -> bool:
        return self.action_type == HELD_REPLY


class ApprovalVote(models.Model):
    """One approver's approval at one level: a level with required_count 2 needs two of them."""

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="votes")
    level = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_lookup = "approval__tenant"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["approval", "level", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["approval", "level", "user"], name="approval_vote_once_per_level"
            ),
        ]

    def __str__(self) -> str:
        return f"Level {self.level} approval by user {self.user_id}"


class ApprovalHistory(models.Model):
    class Event(models.TextChoices):
        CREATED = "created", "Created"
        AUTO_APPROVED = "auto_approved", "Auto-approved"
        NOTIFIED = "notified", "Approvers notified"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ESCALATED = "escalated", "Escalated"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        REMINDED = "reminded", "Reminder sent"
        BREACHED = "breached", "SLA breached"
        EXPIRED = "expired", "Expired"
        EXECUTED = "executed", "Executed"
        FAILED = "failed", "Execution failed"
        REQUESTER_TOLD = "requester_told", "Requester told"
        REPEATED = "repeated", "Asked again"

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="history")
    event = models.CharField(max_length=20, choices=Event.choices)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    notes = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_lookup = "approval__tenant"
    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "approval history"
        ordering = ["approval", "created_at", "id"]

    def __str__(self) -> str:
        level = f" at level {self.level}" if self.level else ""
        return f"{self.get_event_display()}{level}"


class Notification(models.Model):
    """An approver's in-console notification."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    approval = models.ForeignKey(
        Approval, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title


auditlog.register(Approval)
auditlog.register(HITLWorkflow)
auditlog.register(ApprovalLevel)
