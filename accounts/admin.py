from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.admin_base import TenantScopedAdminMixin, TenantScopedInlineMixin
from accounts.models import Tenant, User, UserPhoneNumber
from accounts.roles import ALL_ROLES
from accounts.services import tenant_setup
from privacy.masking import mask_email, mask_phone

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


@admin.register(User)
class UserAdmin(TenantScopedAdminMixin, DjangoUserAdmin, ModelAdmin):
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

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

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
