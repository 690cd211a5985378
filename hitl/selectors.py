from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from accounts.models import User
from hitl.models import Approval


def approvals_awaiting(user: User) -> QuerySet[Approval]:
    """Pending approvals of the user's tenant that the user may decide now."""
    if user.tenant_id is None:
        return Approval.objects.none()
    return get_objects_for_user(
        user,
        "hitl.decide_approval",
        klass=Approval.objects.for_tenant(user.tenant).filter(status=Approval.Status.PENDING),
        accept_global_perms=False,
    )
