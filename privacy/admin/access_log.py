"""The access log in the console: compliance officers and super admins read it, nobody writes it,
and reading it is itself logged."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from accounts.admin_base import (
    AccessLoggedAdminMixin,
    ReadOnlyAdminMixin,
    TenantScopedAdminMixin,
)
from accounts.models import User
from accounts.types import admin_request
from privacy.access_log import Action, access_record
from privacy.models import AdminAccessLog


class StaffFilter(admin.SimpleListFilter):
    """Who read: the tenant's staff who appear in the log (never another tenant's people)."""

    title = "staff member"
    parameter_name = "admin_user"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        user = admin_request(request).user
        entries = AdminAccessLog.objects.all()
        if not user.is_superuser:
            entries = entries.filter(tenant_id=user.tenant_id)
        ids = entries.order_by().values_list("admin_user", flat=True).distinct()
        return [
            (str(pk), username)
            for pk, username in User.objects.filter(pk__in=ids)
            .order_by("username")
            .values_list("pk", "username")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(admin_user_id=value) if value and value.isdecimal() else queryset


@admin.register(AdminAccessLog)
class AdminAccessLogAdmin(
    AccessLoggedAdminMixin, ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin
):
    list_display = [
        "timestamp",
        "admin_user",
        "action_label",
        "resource_type",
        "resource_id",
        "pii_accessed",
        "justification",
    ]
    list_filter = [
        ("timestamp", RangeDateTimeFilter),
        StaffFilter,
        "action",
        "resource_type",
        "pii_accessed",
    ]
    list_filter_submit = True
    access_action = Action.READ_ACCESS_LOG
    access_resource_type = "access_log"
    list_select_related = ["admin_user"]
    search_fields = ["=resource_id"]
    ordering = ["-timestamp"]
    show_full_result_count = False
    fields = [
        "timestamp",
        "admin_user",
        "action",
        "resource_type",
        "resource_id",
        "pii_accessed",
        "justification",
        "ip_hash",
        "user_agent",
    ]

    @display(
        description="Action",
        ordering="action",
        label={Action.REVEAL_PII: "danger", Action.ERASE_DATA: "danger"},
    )
    def action_label(self, entry: AdminAccessLog) -> tuple[str, str]:
        return entry.action, entry.get_action_display()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self.has_view_permission(request):
            access_record(request, action=Action.READ_ACCESS_LOG, resource_type="access_log")
        return super().changelist_view(request, extra_context)
