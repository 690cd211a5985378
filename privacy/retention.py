"""Retention: the PRD's table, the machinery that applies it, and privacy's own policies.

`RETENTION_DAYS` is the PRD's table, the one place any retention period is written. Each app
registers the policies for its own tables from its own `retention.py` (imported by its
AppConfig.ready()), so privacy never imports an app above it:

- channels_app: conversation logs (active, inactive and deleted people; "inactive" is defined
  there) and the raw event log;
- hitl: approvals by outcome;
- privacy (below): the access log, and export downloads past their `expires_at`.

A policy names the rows past retention for a cutoff (now minus its days: a row exactly that old
is still inside) and removes or anonymises a batch of them. `retention_apply` runs every policy
in batches, each batch its own transaction, and records a RetentionRun with what each policy
did. Once a row has been dealt with it no longer matches its policy, so a second run finds
nothing more to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from auditlog.context import disable_auditlog
from django.db import connection, transaction
from django.db.models import DateTimeField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.utils import timezone

from privacy import crypto
from privacy.models import ACCESS_LOG_RETENTION_DAYS, AdminAccessLog, DataRequest, RetentionRun

logger = logging.getLogger(__name__)

# The PRD's table, in days. Policies take their days from here, by name.
RETENTION_DAYS: dict[str, int] = {
    "conversation_logs.active_users": 365,
    "conversation_logs.inactive_users": 90,
    "conversation_logs.deleted_users": 30,
    "platform_event_logs.raw_events": 90,
    "platform_event_logs.aggregated_analytics": 730,
    "hitl_approvals.approved": 1095,
    "hitl_approvals.rejected": 365,
    "hitl_approvals.expired": 90,
    # 2555: the access log's trigger refuses any earlier delete, from the same constant.
    "admin_access_logs.all": ACCESS_LOG_RETENTION_DAYS,
    # Not a line of the PRD's table: an export's download lives until its own expires_at.
    "data_requests.export_payloads": 0,
}
# Lines of the table with no rows to apply them to yet, and why (apply_retention says so).
NOT_YET_APPLIED: dict[str, str] = {
    "platform_event_logs.aggregated_analytics": "no rollup table yet: nothing to apply",
}
DEFAULT_BATCH_SIZE = 1000

Action = Literal["anonymise", "delete", "empty"]
PAST_TENSE: dict[str, str] = {"anonymise": "anonymised", "delete": "deleted", "empty": "emptied"}


class ExpiredRows(Protocol):
    """The rows past retention: older than `cutoff`. `now` is for what the present decides
    (who counts as inactive)."""

    def __call__(self, *, now: datetime, cutoff: datetime) -> QuerySet[Any]: ...


class RemoveRows(Protocol):
    """Remove or anonymise the rows with these primary keys; how many it did."""

    def __call__(self, *, pks: list[Any], now: datetime) -> int: ...


@dataclass(frozen=True)
class RetentionPolicy:
    name: str
    days: int
    action: Action
    description: str
    expired: ExpiredRows
    remove: RemoveRows

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days)


_POLICIES: dict[str, RetentionPolicy] = {}


def retention_register(
    *, name: str, action: Action, description: str, expired: ExpiredRows, remove: RemoveRows
) -> RetentionPolicy:
    if name not in RETENTION_DAYS:
        raise ValueError(f"{name!r} is not a line of RETENTION_DAYS: add its days there first.")
    policy = RetentionPolicy(
        name=name,
        days=RETENTION_DAYS[name],
        action=action,
        description=description,
        expired=expired,
        remove=remove,
    )
    _POLICIES[name] = policy
    return policy


def retention_policies() -> list[RetentionPolicy]:
    """The registered policies, in the table's order."""
    return [_POLICIES[name] for name in RETENTION_DAYS if name in _POLICIES]


def retention_apply(
    *, dry_run: bool, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> RetentionRun:
    """Apply every policy (or, on a dry run, count what each would do and change nothing).

    One policy failing does not stop the others: its error (the exception's type; the
    traceback goes to the log, as it may quote row values) is kept on the run, beside the
    counts of what the batches already committed did.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    now = now or timezone.now()
    run = RetentionRun.objects.create(started_at=now, dry_run=dry_run)
    errors: list[str] = []
    for policy in retention_policies():
        cutoff = policy.cutoff(now)
        try:
            if dry_run:
                run.counts[policy.name] = policy.expired(now=now, cutoff=cutoff).count()
                run.save(update_fields=["counts"])
            else:
                _policy_apply(policy, run=run, now=now, cutoff=cutoff, batch_size=batch_size)
        except Exception as exc:
            logger.exception("retention: policy %s failed", policy.name)
            errors.append(f"{policy.name}: {type(exc).__name__}")
    run.error = "\n".join(errors)
    run.finished_at = timezone.now()
    run.save(update_fields=["error", "finished_at"])
    return run


def _policy_apply(
    policy: RetentionPolicy, *, run: RetentionRun, now: datetime, cutoff: datetime, batch_size: int
) -> None:
    run.counts[policy.name] = 0
    run.save(update_fields=["counts"])
    last: Any = None
    while True:
        # One batch, its removal and its count commit together. Rows another run holds are
        # skipped, not waited for: that run deals with them. The audit log stays out of it:
        # its delete entries would copy every removed row, keeping what retention removes.
        with transaction.atomic(), disable_auditlog():
            rows = policy.expired(now=now, cutoff=cutoff)
            if last is not None:
                rows = rows.filter(pk__gt=last)
            pks = list(
                rows.select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                return
            run.counts[policy.name] += policy.remove(pks=pks, now=now)
            run.save(update_fields=["counts"])
        # Forward by key, so a row the policy could not change is never fetched again.
        last = pks[-1]
        if len(pks) < batch_size:
            return


# privacy's own policies


def _access_log_expired(*, now: datetime, cutoff: datetime) -> QuerySet[AdminAccessLog]:
    rows = AdminAccessLog.objects.filter(timestamp__lt=cutoff)
    if connection.vendor == "postgresql":
        # The trigger judges by the database's clock at the transaction's start (now()); a row
        # it would still refuse (this server's clock running ahead) waits for the next run
        # instead of failing the batch.
        rows = rows.filter(
            timestamp__lt=RawSQL(
                "now() - make_interval(days => %s)",
                (ACCESS_LOG_RETENTION_DAYS,),
                output_field=DateTimeField(),
            )
        )
    return rows


def _access_log_delete(*, pks: list[Any], now: datetime) -> int:
    deleted, _ = AdminAccessLog.objects.filter(pk__in=pks).delete()
    return deleted


def _empty_token_length() -> int:
    return len(crypto.encrypt(""))


def _export_payloads_expired(*, now: datetime, cutoff: datetime) -> QuerySet[DataRequest]:
    # The payload is encrypted, so only its ciphertext's length tells an emptied one: Fernet
    # pads to 16-byte blocks and an empty payload's token is the shortest there is (an export,
    # JSON of a person's data, is never under 16 bytes).
    return (
        DataRequest.objects.filter(kind=DataRequest.Kind.EXPORT, expires_at__lt=cutoff)
        .alias(payload_length=Length("payload"))
        .filter(payload_length__gt=_empty_token_length())
    )


def _export_payloads_empty(*, pks: list[Any], now: datetime) -> int:
    return DataRequest.objects.filter(pk__in=pks).update(payload="")


retention_register(
    name="admin_access_logs.all",
    action="delete",
    description="Access log entries older than seven years are deleted (the database refuses "
    "any earlier delete).",
    expired=_access_log_expired,
    remove=_access_log_delete,
)
retention_register(
    name="data_requests.export_payloads",
    action="empty",
    description="An export's downloadable JSON is emptied once its expires_at has passed; the "
    "request itself stays, as the record that it was made and answered.",
    expired=_export_payloads_expired,
    remove=_export_payloads_empty,
)
