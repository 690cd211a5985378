from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from agents import admin_marketing  # noqa: F401  (registers the marketing data admins)
from agents.models import AgentInstance, AgentRun, AgentSettings, WalkerAgent
from agents.services import agent_instance_update, tier_limit_check


@admin.register(WalkerAgent)
class WalkerAgentAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The catalogue: system-protected, for every role, platform superusers included."""

    list_display = ["name", "agent_type", "purpose", "counts_toward_limit"]
    fields = ["agent_type", "name", "purpose", "capabilities", "platforms", "counts_toward_limit"]


class AgentInstanceForm(forms.ModelForm):
    class Meta:
        model = AgentInstance
        fields = ["enabled", "backend", "flow_id"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # The definitive check runs again under a lock when saving; this one shows the plan's
        # limit on the form instead of failing the save.
        candidate = copy.copy(self.instance)
        candidate.enabled = cleaned.get("enabled", candidate.enabled)
        try:
            tier_limit_check(instance=candidate)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(AgentInstance)
class AgentInstanceAdmin(TenantScopedAdminMixin, ModelAdmin):
    form = AgentInstanceForm
    list_display = ["agent", "tenant", "enabled", "backend", "flow_id", "updated_at"]
    list_filter = ["enabled", "backend"]
    list_select_related = ["agent", "tenant"]
    fields = ["tenant", "agent", "enabled", "backend", "flow_id", "updated_at"]
    readonly_fields = ["tenant", "agent", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # every tenant is given one instance of each agent

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: AgentInstance, form: Any, change: bool) -> None:
        agent_instance_update(
            instance=obj,
            enabled=form.cleaned_data["enabled"],
            backend=form.cleaned_data["backend"],
            flow_id=form.cleaned_data["flow_id"],
        )


@admin.register(AgentSettings)
class AgentSettingsAdmin(TenantScopedAdminMixin, ModelAdmin):
    list_display = ["tenant", "mode", "confidence_threshold", "updated_at"]
    fields = ["tenant", "mode", "confidence_threshold", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgentRun)
class AgentRunAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    """Each agent's recent runs: latency, confidence, cost. Written by the system only."""

    list_display = [
        "created_at",
        "agent_type",
        "backend",
        "status",
        "latency_ms",
        "confidence",
        "needs_review",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "conversation_id",
    ]
    list_filter = ["agent_type", "backend", "status", "needs_review"]
    date_hierarchy = "created_at"
    show_full_result_count = False
