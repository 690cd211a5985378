from __future__ import annotations

from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin
from accounts.types import admin_request

admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, AuditlogLogEntryAdmin, ModelAdmin):
    """The audit trail. Nobody, platform superusers included, adds, edits or deletes entries."""

    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        user = admin_request(request).user
        if user.is_superuser:
            return queryset
        # Each audited model stamps its tenant into additional_data (get_additional_data).
        return queryset.filter(additional_data__tenant_id=user.tenant_id)
