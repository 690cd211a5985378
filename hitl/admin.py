from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from accounts.admin_base import TenantScopedAdminMixin
from hitl.models import Approval


@admin.register(Approval)
class ApprovalAdmin(TenantScopedAdminMixin, ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
