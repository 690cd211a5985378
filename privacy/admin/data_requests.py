"""Admin pages: data_requests. Exports and erasures of a tenant's people, for the roles that may
export personal data (compliance officers, super admins); read-only, since only the actions on
the users page and the people themselves start them. A finished export is downloaded from here
until it expires, and each download is written to the access log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from privacy.access_log import Action, access_record
from privacy.export import export_filename
from privacy.models import DataRequest

EXPORT_PERMISSION = "accounts.export_data"


def downloadable(data_request: DataRequest) -> bool:
    return (
        data_request.kind == DataRequest.Kind.EXPORT
        and data_request.status == DataRequest.Status.DONE
        and data_request.expires_at is not None
        and data_request.expires_at > timezone.now()
    )


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = [
        "created_at",
        "subject",
        "kind",
        "status",
        "progress_bar",
        "requested_by",
        "finished_at",
        "download",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["subject", "requested_by"]
    search_fields = ["=subject__id", "subject__username"]
    show_full_result_count = False
    fields = [
        "subject",
        "kind",
        "status",
        "progress",
        "reason",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "error",
        "download",
    ]
    readonly_fields = fields
    change_list_template = "admin/privacy/datarequest/change_list.html"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and request.user.has_perm(
            EXPORT_PERMISSION
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and request.user.has_perm(EXPORT_PERMISSION)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The payload (a whole export, encrypted) is read only by the download.
        return super().get_queryset(request).defer("payload")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="privacy_datarequest_download",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # While an export is under way the list refreshes itself, so its progress moves.
        unfinished = [DataRequest.Status.PENDING, DataRequest.Status.RUNNING]
        running = self.get_queryset(request).filter(status__in=unfinished).exists()
        return super().changelist_view(request, {**(extra_context or {}), "running": running})

    @admin.display(description="progress")
    def progress_bar(self, obj: DataRequest) -> str:
        done = obj.status == DataRequest.Status.DONE
        return format_html(
            '<div style="width:120px;background:#e5e7eb;border-radius:3px">'
            '<div style="width:{}%;background:{};height:8px;border-radius:3px"></div></div>'
            "<small>{}%</small>",
            obj.progress,
            "#047857" if done else "#1d4ed8",
            obj.progress,
        )

    @admin.display(description="download")
    def download(self, obj: DataRequest) -> str:
        # A person's own export (from the API) was handed to them and never kept: no expiry.
        if obj.status != DataRequest.Status.DONE or obj.expires_at is None:
            return "—"
        if not downloadable(obj):
            return "Expired"
        return format_html(
            '<a class="text-primary-600 underline" href="{}">Download</a>',
            reverse("admin:privacy_datarequest_download", args=[obj.pk]),
        )

    def download_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        data_request = self.get_object(request, unquote(object_id))
        if data_request is None:
            raise Http404("No such data request.")
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        if data_request.kind != DataRequest.Kind.EXPORT:
            raise Http404("Only exports have something to download.")
        payload = (
            DataRequest.objects.filter(pk=data_request.pk).values_list("payload", flat=True).get()
        )
        if data_request.status != DataRequest.Status.DONE:
            return self._unavailable(request, data_request, status=409)
        if not downloadable(data_request) or not payload:
            return self._unavailable(request, data_request, status=410)
        access_record(
            request,
            action=Action.DOWNLOAD_EXPORT,
            resource_type="data_request",
            resource_id=data_request.pk,
            pii_accessed=True,
            tenant_id=data_request.tenant_id,
        )
        response = HttpResponse(payload, content_type="application/json; charset=utf-8")
        filename = export_filename(
            user_id=data_request.subject_id, at=data_request.finished_at or timezone.now()
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response

    def _unavailable(
        self, request: HttpRequest, data_request: DataRequest, *, status: int
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "This export is not finished" if status == 409 else "This export has expired",
            "opts": self.model._meta,
            "data_request": data_request,
            "changelist_url": reverse("admin:privacy_datarequest_changelist"),
        }
        return TemplateResponse(
            request, "admin/privacy/datarequest/unavailable.html", context, status=status
        )
