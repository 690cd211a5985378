from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from accounts.admin_base import TenantScopedAdminMixin
from monitoring.models import Event


@admin.register(Event)
class EventAdmin(TenantScopedAdminMixin, ModelAdmin):
    list_display = ["created_at", "kind", "channel", "agent_type", "conversation", "duration_ms"]
    list_filter = ["kind", "channel", "agent_type"]
    list_select_related = ["conversation"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["conversation", "message"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
