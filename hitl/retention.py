"""hitl's retention policies (the PRD's table), registered with privacy.retention.

An approval's age is the moment it ended: `decided_at`, which closing sets for every outcome,
an expiry included (`expires_at`, then `created_at`, stand in for rows that lack it). The
outcomes group as the PRD's lines: approved (auto-approved too) 1095 days, rejected (changes
requested too: a refusal that sends the request back) 365, expired 90. Past retention an
approval is deleted with its votes, history and notifications (they cascade), and with the
object permissions granted on it, which name it by key, not by foreign key. An approval still
open (pending or escalated) matches no line, and one whose approved action has yet to run or is
running is left until it has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from guardian.models import GroupObjectPermission, UserObjectPermission

from hitl.models import Approval
from privacy.retention import ExpiredRows, retention_register

OUTCOMES: dict[str, tuple[str, ...]] = {
    "approved": (Approval.Status.APPROVED, Approval.Status.AUTO_APPROVED),
    "rejected": (Approval.Status.REJECTED, Approval.Status.CHANGES_REQUESTED),
    "expired": (Approval.Status.EXPIRED,),
}


def _ended(statuses: tuple[str, ...]) -> ExpiredRows:
    def expired(*, now: datetime, cutoff: datetime) -> QuerySet[Approval]:
        return (
            Approval.objects.filter(status__in=statuses)
            .exclude(execution_status__in=[Approval.Execution.PENDING, Approval.Execution.RUNNING])
            .alias(ended_at=Coalesce("decided_at", "expires_at", "created_at"))
            .filter(ended_at__lt=cutoff)
        )

    return expired


def approvals_delete(*, pks: list[Any], now: datetime) -> int:
    content_type = ContentType.objects.get_for_model(Approval)
    keys = [str(pk) for pk in pks]
    for grants in (UserObjectPermission, GroupObjectPermission):
        grants.objects.filter(content_type=content_type, object_pk__in=keys).delete()
    _, deleted = Approval.objects.filter(pk__in=pks).delete()
    return deleted.get(Approval._meta.label, 0)


for outcome, statuses in OUTCOMES.items():
    retention_register(
        name=f"hitl_approvals.{outcome}",
        action="delete",
        description=f"Approvals that ended {' or '.join(s.replace('_', ' ') for s in statuses)} "
        "longer ago than this are deleted, with their votes, history and notifications.",
        expired=_ended(statuses),
        remove=approvals_delete,
    )
