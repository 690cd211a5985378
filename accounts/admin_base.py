"""What every tenant-owned model's admin shares: a staff member who is not a platform superuser
sees, picks and changes only rows of their own tenant."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import unquote
from django.db import models
from django.http import HttpRequest

from accounts.types import admin_request
from privacy.access_log import access_record
from privacy.reveal import can_view_pii


class ReadOnlyAdminMixin:
    """For what only the system writes (logs, runs, approvals until they are decided there)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _scope(request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
    if request.user.is_superuser or not hasattr(queryset, "for_tenant"):
        return queryset
    return queryset.for_tenant(getattr(request.user, "tenant", None))


def _has_tenant_field(model: type[models.Model]) -> bool:
    return any(field.name == "tenant" for field in model._meta.concrete_fields)


class PIIMaskingAdminMixin:
    """Roles without view_pii see `<field>_masked` (a display method) wherever `<field>` would
    appear: forms, fieldsets and the change list."""

    pii_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if not can_view_pii(request.user):
            fields.extend(f"{name}_masked" for name in self.pii_fields)
        return fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._mask_names(request, super().get_fields(request, obj))  # type: ignore[misc]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        return [
            (name, {**options, "fields": self._mask_names(request, options["fields"])})
            for name, options in fieldsets
        ]

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._mask_names(request, super().get_list_display(request))  # type: ignore[misc]

    def _mask_names(self, request: HttpRequest, names: Any) -> list[Any]:
        if can_view_pii(request.user):
            return list(names)
        return [f"{name}_masked" if name in self.pii_fields else name for name in names]


class TenantScopedAdminMixin(PIIMaskingAdminMixin):
    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return _scope(request, super().get_queryset(request))  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            queryset = kwargs.get("queryset", db_field.remote_field.model._default_manager.all())
            kwargs["queryset"] = _scope(request, queryset)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser and _has_tenant_field(self.model):  # type: ignore[attr-defined]
            fields.append("tenant")
        return fields

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))  # type: ignore[misc]
        if request.user.is_superuser and _has_tenant_field(self.model):  # type: ignore[attr-defined]
            filters.insert(0, "tenant")
        return filters

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        if request.user.is_superuser or not _has_tenant_field(self.model):  # type: ignore[attr-defined]
            return form
        tenant = admin_request(request).user.tenant

        # A new row belongs to the staff member's tenant, set before validation so that the
        # model's constraints see it.
        class TenantBoundForm(form):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                if self.instance.tenant_id is None:
                    self.instance.tenant = tenant

        return TenantBoundForm


class TenantScopedInlineMixin(PIIMaskingAdminMixin):
    formfield_for_foreignkey = TenantScopedAdminMixin.formfield_for_foreignkey


class AccessLoggedAdminMixin:
    """Each view of an object's page writes one row of the access log (privacy.access_log)."""

    access_action: str
    access_resource_type: str

    def access_pii(self, request: HttpRequest, obj: Any) -> bool:
        """Whether the page shows the object's personal data unmasked to this viewer."""
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
            if obj is not None and self.has_view_permission(request, obj):  # type: ignore[attr-defined]
                access_record(
                    request,
                    action=self.access_action,
                    resource_type=self.access_resource_type,
                    resource_id=obj.pk,
                    pii_accessed=self.access_pii(request, obj),
                    tenant_id=getattr(obj, "tenant_id", None),
                )
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
