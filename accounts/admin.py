from __future__ import annotations

from datetime import UTC
from typing import Any

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminTextareaWidget

from accounts.admin_base import (
    AccessLoggedAdminMixin,
    TenantScopedAdminMixin,
    TenantScopedInlineMixin,
)
from accounts.lockout import active_locks, attempt_lock_ends_at
from accounts.models import Tenant, User, UserPhoneNumber
from accounts.roles import ALL_ROLES
from accounts.services import tenant_setup
from accounts.types import admin_request
from privacy.access_log import Action, access_record
from privacy.masking import mask_email, mask_phone
from privacy.reveal import can_view_pii
from privacy.services import data_export_request, erasure_refusal, user_erase

admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["permissions"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdminMixin, ModelAdmin):
    list_display = ["name", "slug", "tier", "is_active", "created_at"]
    list_filter = ["tier", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # A tenant's own admins cannot change the plan they pay for.
            fields += ["slug", "tier", "is_active"]
        return fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return self.prepopulated_fields if request.user.is_superuser else {}

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            tenant_setup(tenant=obj)


class PhoneNumberMaskMixin:
    pii_fields: tuple[str, ...] = ("phone_number",)

    @admin.display(description="phone number")
    def phone_number_masked(self, obj: UserPhoneNumber) -> str:
        return mask_phone(obj.phone_number)


class PhoneNumberInline(PhoneNumberMaskMixin, TenantScopedInlineMixin, TabularInline):
    model = UserPhoneNumber
    extra = 0
    fields = ["phone_number", "verified", "primary", "created_at"]
    readonly_fields = ["created_at"]


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        min_length=10,
        max_length=1000,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Why they are erased: their request, its date, a ticket number. Kept with "
        "the erasure record and in the access log after their data is gone: do not write "
        "their name or email here.",
    )


@admin.register(User)
class UserAdmin(AccessLoggedAdminMixin, TenantScopedAdminMixin, DjangoUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    pii_fields = ("email",)
    inlines = [PhoneNumberInline]
    list_display = ["username", "tenant", "email", "role_list", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active", "is_deleted", "groups"]
    list_select_related = ["tenant"]
    search_fields = ["username", "first_name", "last_name"]
    ordering = ["username"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["tenant", "first_name", "last_name", "email", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Erasure", {"fields": ["is_deleted", "deleted_at"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["tenant", "username", "usable_password", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined", "is_deleted", "deleted_at"]
    actions = ["export_personal_data", "erase_personal_data"]
    access_action = Action.VIEW_USER
    access_resource_type = "user"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    def access_pii(self, request: HttpRequest, obj: Any) -> bool:
        # A person's page shows their email and numbers, whole to roles with view_pii.
        return can_view_pii(request.user)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Only platform superusers make superusers or hand out individual permissions.
        return [
            (
                name,
                {
                    **opts,
                    "fields": [f for f in opts["fields"] if f not in ("is_superuser", "tenant")],
                },
            )
            for name, opts in fieldsets
        ]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ALL_ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_export_data_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.export_data")

    @admin.action(description="Export personal data (GDPR)", permissions=["export_data"])
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        staff = admin_request(request).user
        people = list(queryset.select_related("tenant"))
        exported = [person for person in people if person.tenant_id is not None]
        with transaction.atomic():
            for person in exported:
                data_export_request(subject=person, requested_by=staff)
                access_record(
                    request,
                    action=Action.EXPORT_DATA,
                    resource_type="user",
                    resource_id=person.pk,
                    pii_accessed=True,
                    tenant_id=person.tenant_id,
                )
        if exported:
            self.message_user(
                request,
                format_html(
                    'Export of {} started. <a href="{}">The data requests page</a> shows '
                    "its progress and its download.",
                    ", ".join(person.username for person in exported),
                    reverse("admin:privacy_datarequest_changelist"),
                ),
                messages.SUCCESS,
            )
        skipped = [person.username for person in people if person.tenant_id is None]
        if skipped:
            self.message_user(
                request,
                f"Not exported (platform operators belong to no tenant): {', '.join(skipped)}.",
                messages.WARNING,
            )

    @admin.action(description="Erase personal data (GDPR)…", permissions=["export_data"])
    def erase_personal_data(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> HttpResponse | None:
        """A confirmation page asking for the reason first, as Django's delete does; erased in
        one transaction per person, each with its access-log row."""
        staff = admin_request(request).user
        people = list(queryset.select_related("tenant"))
        refusals = [
            refusal
            for person in people
            if (refusal := erasure_refusal(user=person, by=staff)) is not None
        ]
        if refusals:
            self.message_user(request, f"Nothing erased. {' '.join(refusals)}", messages.ERROR)
            return None
        form = ErasureForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            for person in people:
                with transaction.atomic():
                    user_erase(user=person, requested_by=staff, reason=reason)
                    access_record(
                        request,
                        action=Action.ERASE_DATA,
                        resource_type="user",
                        resource_id=person.pk,
                        pii_accessed=True,
                        justification=reason,
                        tenant_id=person.tenant_id,
                    )
                # By id: the message outlives the request (a cookie), the old name must not.
                self.message_user(
                    request, f"Erased user #{person.pk}, now {person.username}.", messages.SUCCESS
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase personal data",
            "opts": self.model._meta,
            "people": people,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:accounts_user_changelist"),
        }
        return TemplateResponse(request, "admin/accounts/user/erase_personal_data.html", context)

    @admin.display(description="email")
    def email_masked(self, obj: User) -> str:
        return mask_email(obj.email)

    @admin.display(description="roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())


@admin.register(UserPhoneNumber)
class UserPhoneNumberAdmin(PhoneNumberMaskMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = ["phone_number", "user", "tenant_name", "verified", "primary", "created_at"]
    list_filter = ["verified", "primary"]
    list_select_related = ["user__tenant"]
    raw_id_fields = ["user"]
    fields = ["user", "phone_number", "verified", "primary", "created_at"]
    readonly_fields = ["created_at"]
    search_fields = ["user__username"]

    @admin.display(description="tenant")
    def tenant_name(self, obj: UserPhoneNumber) -> str:
        return obj.user.tenant.name if obj.user.tenant else "—"


class LockedOutFilter(admin.SimpleListFilter):
    title = "lock"
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Locked out now"), ("no", "Not locked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(active_locks())
        if self.value() == "no":
            return queryset.exclude(active_locks())
        return queryset


@admin.register(AccessAttempt)
class SignInAttemptAdmin(ModelAdmin):
    """Failed sign-ins by username and address (django-axes), and the locks they set, until the
    cool-off forgets them. Platform superusers only: the rows belong to no tenant and name
    addresses. Deleting a row lifts its lock."""

    list_display = [
        "username",
        "ip_address",
        "failures_since_start",
        "lock",
        "attempt_time",
        "path_info",
    ]
    list_filter = [LockedOutFilter, "path_info"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    fields = [
        "username",
        "ip_address",
        "lock",
        "failures_since_start",
        "attempt_time",
        "path_info",
        "user_agent",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    @admin.display(description="lock")
    def lock(self, obj: AccessAttempt) -> str:
        until = attempt_lock_ends_at(obj)
        if until is not None:
            return f"Locked out until {until.astimezone(UTC):%H:%M} UTC"
        left = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        return f"{left} {'try' if left == 1 else 'tries'} left" if left > 0 else "Expired"
