"""API permission classes every app's API shares."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import Tenant, User


class HasTenant(BasePermission):
    """The caller belongs to a tenant: everything the APIs serve is scoped to one."""

    message = "This account belongs to no tenant; the agents work within one."

    def has_permission(self, request: Request, view: Any) -> bool:
        return getattr(request.user, "tenant_id", None) is not None


def tenant_of(user: User) -> Tenant:
    """The tenant of a caller whom HasTenant let through."""
    if user.tenant is None:
        raise PermissionDenied(HasTenant.message)
    return user.tenant
