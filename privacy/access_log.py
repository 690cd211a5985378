"""The access log: one row for every read of a person's data by staff (the PRD's
admin_access_logs). Call `access_record` from the view that shows or changes the data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from privacy.fields import blind_index
from privacy.models import AdminAccessLog

Action = AdminAccessLog.Action


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the address the trusted proxies saw (the same
    proxy count, THROTTLE_NUM_PROXIES, that DRF's throttles trust), never a header a client
    may forge freely."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    if forwarded and isinstance(proxies, int) and proxies > 0:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or ""


def access_record(
    request: HttpRequest,
    *,
    action: str,
    resource_type: str,
    resource_id: Any = "",
    pii_accessed: bool = False,
    justification: str = "",
    tenant_id: int | None = None,
) -> AdminAccessLog | None:
    """Write one access-log row for this request's user (nothing when the log is switched off
    by ADMIN_ACCESS_LOG_ENABLED). The IP is kept as a keyed hash, as the PRD asks."""
    rows = access_records(
        request,
        action=action,
        resource_type=resource_type,
        resource_ids=[resource_id],
        pii_accessed=pii_accessed,
        justification=justification,
        tenant_id=tenant_id,
    )
    return rows[0] if rows else None


def access_records(
    request: HttpRequest,
    *,
    action: str,
    resource_type: str,
    resource_ids: Iterable[Any],
    pii_accessed: bool = False,
    justification: str = "",
    tenant_id: int | None = None,
) -> list[AdminAccessLog]:
    """One row per resource shown by one request (a page of conversations), in one INSERT."""
    if not settings.ADMIN_ACCESS_LOG_ENABLED:
        return []
    user = getattr(request, "user", None)
    admin_user = user if user is not None and user.is_authenticated else None
    ip = client_ip(request)
    common = {
        "tenant_id": tenant_id if tenant_id is not None else getattr(admin_user, "tenant_id", None),
        "admin_user": admin_user,
        "action": action,
        "resource_type": resource_type,
        "pii_accessed": pii_accessed,
        "ip_hash": blind_index(ip, purpose="ip") if ip else "",
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512],
        "justification": justification,
    }
    return AdminAccessLog.objects.bulk_create(
        AdminAccessLog(resource_id=str(resource_id)[:64], **common) for resource_id in resource_ids
    )
