from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from hitl.models import Approval


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    """What waits for a human. Read-only here: deciding comes with the approvals queue."""

    list_display = [
        "created_at",
        "action_type",
        "status",
        "hold_reasons",
        "requested_by_agent",
        "estimated_cost",
        "estimated_reach",
        "conversation",
    ]
    list_filter = ["status", "action_type"]
    list_select_related = ["conversation"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["conversation", "message", "requested_by"]
