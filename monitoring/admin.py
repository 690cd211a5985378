from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from channels_app.events import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = ["created_at", "kind", "channel", "agent_type", "conversation", "duration_ms"]
    list_filter = ["kind", "channel", "agent_type"]
    list_select_related = ["conversation"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["conversation", "message"]
