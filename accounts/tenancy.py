"""Tenant scoping: every queryset a request can reach goes through `for_tenant`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from privacy.fields import PIIQuerySet

if TYPE_CHECKING:
    from accounts.models import Tenant


class TenantQuerySet(PIIQuerySet):
    """Models name the path to their tenant in `tenant_lookup` (default: `tenant`)."""

    def for_tenant(self, tenant: Tenant | None) -> TenantQuerySet:
        if tenant is None:
            return self.none()
        lookup = getattr(self.model, "tenant_lookup", "tenant")
        return self.filter(**{lookup: tenant.pk})


def tenant_of(obj: Any) -> Any:
    """Follow a model instance's `tenant_lookup` path to its Tenant."""
    lookup = getattr(type(obj), "tenant_lookup", "tenant")
    if lookup == "pk":
        return obj
    for part in lookup.split("__"):
        obj = getattr(obj, part)
    return obj
