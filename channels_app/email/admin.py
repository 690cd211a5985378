"""The console's view of the email briefs: preferences (with a preview of anyone's brief for
today), every email sent with its tracking, and the scheduler's runs with their progress."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_sameorigin
from unfold.admin import ModelAdmin, TabularInline

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from accounts.models import User
from accounts.types import AuthedRequest
from channels_app.email import schedule
from channels_app.email.models import BriefRun, EmailEvent, EmailPreferences, EmailSend
from channels_app.email.selectors import engagement_by_day
from channels_app.email.sending import brief_preview
from channels_app.models import Channel
from privacy.consent import consent_record
from privacy.masking import mask_email
from privacy.models import ConsentRecord

ENGAGEMENT_DAYS = 14


@admin.register(EmailPreferences)
class EmailPreferencesAdmin(TenantScopedAdminMixin, ModelAdmin):
    pii_fields = ("email",)
    list_display = [
        "user",
        "enabled",
        "delivery_time",
        "time_zone",
        "frequency",
        "digest_format",
        "min_priority",
        "next_send_at",
        "disabled_reason",
        "preview_link",
    ]
    list_filter = ["enabled", "frequency", "digest_format", "min_priority", "disabled_reason"]
    list_select_related = ["user__tenant"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    show_full_result_count = False
    fields = [
        "user",
        "enabled",
        "delivery_time",
        "time_zone",
        "frequency",
        "weekday",
        "custom_days",
        "sections",
        "min_priority",
        "digest_format",
        "email",
        "next_send_at",
        "disabled_reason",
        "disabled_at",
    ]
    readonly_fields = ["next_send_at", "disabled_reason", "disabled_at"]

    @admin.display(description="email")
    def email_masked(self, obj: EmailPreferences) -> str:
        return mask_email(obj.email)

    @admin.display(description="today's brief")
    def preview_link(self, obj: EmailPreferences) -> str:
        url = reverse("admin:channels_app_emailpreferences_preview", args=[obj.user_id])
        return format_html('<a href="{}">Preview</a>', url)

    def save_model(
        self, request: HttpRequest, obj: EmailPreferences, form: Any, change: bool
    ) -> None:
        # The schedule follows what was just saved: the next delivery after now, or none.
        obj.next_send_at = (
            schedule.next_occurrence(obj, after=timezone.now()) if obj.enabled else None
        )
        super().save_model(request, obj, form, change)
        if not change or "enabled" in form.changed_data:
            consent_record(
                user=obj.user,
                channel=Channel.EMAIL,
                purpose=ConsentRecord.Purpose.BRIEFS,
                granted=obj.enabled,
                source=ConsentRecord.Source.ADMIN,
            )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "preview/<int:user_id>/",
                view(self.preview_view),
                name="channels_app_emailpreferences_preview",
            ),
            path(
                "preview/<int:user_id>/html/",
                view(xframe_options_sameorigin(self.preview_html_view)),
                name="channels_app_emailpreferences_preview_html",
            ),
            *super().get_urls(),
        ]

    def _person(self, request: AuthedRequest, user_id: int) -> User:
        if not self.has_view_permission(request):
            raise PermissionDenied
        people = User.objects.select_related("tenant").filter(tenant__isnull=False)
        if not request.user.is_superuser:
            people = people.for_tenant(request.user.tenant)
        user = people.filter(pk=user_id).first()
        if user is None:
            raise Http404("No such person in your workspace.")
        return user

    def preview_view(self, request: AuthedRequest, user_id: int) -> HttpResponse:
        """Today's brief of anyone of the workspace, as it would go out now. Nothing is sent."""
        person = self._person(request, user_id)
        brief, rendered = brief_preview(user=person, now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Today's brief for {person}",
            "opts": self.model._meta,
            "person": person,
            "brief": brief,
            "rendered": rendered,
            "html_url": reverse(
                "admin:channels_app_emailpreferences_preview_html", args=[person.pk]
            ),
        }
        return TemplateResponse(request, "emails/admin/preview.html", context)

    # The preview page shows it in a frame: only our own pages may frame it (and X-Frame-Options
    # says the same, in get_urls).
    @method_decorator(csp_replace({"frame-ancestors": [SELF]}))
    def preview_html_view(self, request: AuthedRequest, user_id: int) -> HttpResponse:
        person = self._person(request, user_id)
        _brief, rendered = brief_preview(user=person, now=timezone.now())
        return HttpResponse(rendered.html)


class EmailEventInline(TabularInline):
    model = EmailEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "event_type", "esp", "data", "received_at"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EmailSend)
class EmailSendAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    pii_fields = ("to_email",)
    list_display = [
        "created_at",
        "user",
        "kind",
        "brief_date",
        "status",
        "esp",
        "failed_over",
        "opened_at",
        "clicked_at",
        "run",
    ]
    list_filter = ["kind", "status", "esp", "failed_over"]
    list_select_related = ["user", "run"]
    search_fields = ["user__username", "=esp_message_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["user", "run", "sent_by"]
    inlines = [EmailEventInline]
    change_list_template = "emails/admin/emailsend_change_list.html"
    exclude = ["to_hash"]

    @admin.display(description="to")
    def to_email_masked(self, obj: EmailSend) -> str:
        return mask_email(obj.to_email)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        tenant = getattr(request.user, "tenant", None)
        extra_context = dict(extra_context or {})
        if tenant is not None:
            end = timezone.now().date()
            extra_context["engagement"] = engagement_by_day(
                tenant=tenant, start=end - timedelta(days=ENGAGEMENT_DAYS - 1), end=end
            )
        return super().changelist_view(request, extra_context)


@admin.register(BriefRun)
class BriefRunAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = [
        "started_at",
        "first_due_at",
        "due",
        "sent",
        "skipped",
        "failed",
        "progress",
        "finished_at",
    ]
    date_hierarchy = "started_at"
    show_full_result_count = False
    change_list_template = "emails/admin/briefrun_change_list.html"

    @admin.display(description="progress")
    def progress(self, obj: BriefRun) -> str:
        state = "done" if obj.finished_at else "sending"
        return format_html(
            '<div title="{} of {}" style="width:120px;background:#e5e7eb;border-radius:3px">'
            '<div style="width:{}%;background:{};height:8px;border-radius:3px"></div></div>'
            "<small>{}/{} {}</small>",
            obj.done,
            obj.due,
            obj.progress_percent,
            "#047857" if obj.finished_at else "#1d4ed8",
            obj.done,
            obj.due,
            state,
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # While a run is under way the list refreshes itself, so its progress moves.
        running = self.get_queryset(request).filter(finished_at__isnull=True).exists()
        return super().changelist_view(request, {**(extra_context or {}), "running": running})
