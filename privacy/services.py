"""Data subject requests: exports (GDPR art. 15/20) and erasure (art. 17), each recorded as a
DataRequest. A person's own export is answered at once; one asked for by staff runs in a worker
and waits, encrypted, for its download until it expires. Erasure is synchronous: one
transaction, all or nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from privacy.erasure import personal_data_erase
from privacy.export import export_json, personal_data_export
from privacy.models import DataRequest

logger = logging.getLogger(__name__)

ERROR_MAX = 1000


class ErasureRefused(Exception):
    """The account may not be erased this way; the message says why."""


def data_export_now(*, user: User) -> str:
    """A person's own export, answered in the request: the JSON, and a DataRequest that records
    it was given (the payload is not kept: the person has it)."""
    started = timezone.now()
    payload = export_json(personal_data_export(user=user))
    DataRequest.objects.create(
        tenant=user.member_tenant,
        subject=user,
        requested_by=user,
        kind=DataRequest.Kind.EXPORT,
        status=DataRequest.Status.DONE,
        progress=100,
        created_at=started,
        started_at=started,
        finished_at=timezone.now(),
    )
    return payload


def data_export_request(*, subject: User, requested_by: User) -> DataRequest:
    """Staff ask for a person's export: the request is stored and a worker builds it once the
    caller's transaction commits."""
    from privacy.tasks import data_export_task

    data_request = DataRequest.objects.create(
        tenant=subject.member_tenant,
        subject=subject,
        requested_by=requested_by,
        kind=DataRequest.Kind.EXPORT,
    )
    transaction.on_commit(lambda: data_export_task.delay(data_request.pk))
    return data_request


def data_export_run(*, request_id: int) -> bool:
    """Build a requested export and keep it, encrypted, until DATA_EXPORT_TTL_HOURS from now.
    False when another worker has it (or it is finished): a redelivered task does nothing, and a
    run abandoned longer than DATA_REQUEST_LEASE_SECONDS ago is taken over."""
    now = timezone.now()
    abandoned = now - timedelta(seconds=settings.DATA_REQUEST_LEASE_SECONDS)
    claimed = (
        DataRequest.objects.filter(pk=request_id, kind=DataRequest.Kind.EXPORT)
        .filter(
            Q(status=DataRequest.Status.PENDING)
            | Q(status=DataRequest.Status.RUNNING, started_at__lt=abandoned)
        )
        .update(status=DataRequest.Status.RUNNING, started_at=now, progress=0, error="")
    )
    if not claimed:
        return False
    requests = DataRequest.objects.filter(pk=request_id)
    subject = User.objects.select_related("tenant").get(data_requests=request_id)
    try:
        payload = export_json(
            personal_data_export(
                user=subject,
                # Bounded below 100: the request is done only once its payload is stored.
                on_progress=lambda percent: requests.update(progress=min(percent, 99)),
            )
        )
    except Exception as exc:
        logger.exception("Data export %s failed", request_id)
        requests.update(
            status=DataRequest.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX],
            finished_at=timezone.now(),
        )
        return True
    finished = timezone.now()
    # Only while still running: an erasure of the person meanwhile has failed the request, and
    # its copy of the erased data is never stored.
    requests.filter(status=DataRequest.Status.RUNNING).update(
        status=DataRequest.Status.DONE,
        progress=100,
        payload=payload,
        finished_at=finished,
        expires_at=finished + timedelta(hours=settings.DATA_EXPORT_TTL_HOURS),
    )
    return True


def erasure_refusal(*, user: User, by: User | None = None) -> str | None:
    """Why `user` may not be erased (by `by`, from the console), or None."""
    if user.is_superuser:
        return f"{user} is a platform superuser: their account is closed by the platform."
    if by is not None and by.pk == user.pk:
        return "You cannot erase your own account from the console."
    if user.is_deleted:
        return f"{user} was already erased."
    return None


def user_erase(*, user: User, requested_by: User | None, reason: str) -> DataRequest:
    """Erase a person's data through the registry and record it, in one transaction. Their
    account stays as an anonymous row (the analytics count its conversations), unable to sign
    in."""
    refusal = erasure_refusal(user=user, by=None if requested_by == user else requested_by)
    if refusal is not None:
        raise ErasureRefused(refusal)
    with transaction.atomic():
        started = timezone.now()
        data_request = DataRequest.objects.create(
            tenant=user.member_tenant,
            subject=user,
            requested_by=requested_by,
            kind=DataRequest.Kind.ERASURE,
            status=DataRequest.Status.RUNNING,
            reason=reason,
            created_at=started,
            started_at=started,
        )
        personal_data_erase(user=user)
        data_request.status = DataRequest.Status.DONE
        data_request.progress = 100
        data_request.finished_at = timezone.now()
        data_request.save(update_fields=["status", "progress", "finished_at"])
    user.refresh_from_db()
    return data_request
