"""Erasure (GDPR art. 17) through the registry, in one transaction.

Every registered entry erases its rows about the person (anonymised where the analytics count
them, deleted where they serve only the person). Before that, the audit trails that describe those
rows are scrubbed: django-auditlog's and the Django admin's logs keep each row's `str()` (usernames,
"maya on whatsapp") and auditlog its field changes. The trails keep who acted, when and on which
row; what the row said goes. auditlog is switched off meanwhile, or it would record the erasure's
own changes, old values included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry as AuditLogEntry
from auditlog.registry import auditlog
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import QuerySet
from django.db.models.functions import Cast

from privacy.registry import ERASED, personal_data_entries

if TYPE_CHECKING:
    from accounts.models import User


def personal_data_erase(*, user: User) -> dict[str, int]:
    """Erase everything the registry holds about `user`; the rows changed, per section."""
    entries = personal_data_entries()
    with transaction.atomic(), disable_auditlog():
        for entry in entries:
            audit_trail_scrub(entry.model, entry.rows_of(user.pk))
        # The person's own actions stay in the audit log under their (anonymised) account; the
        # email auditlog copied beside each of them goes.
        AuditLogEntry.objects.filter(actor_id=user.pk).exclude(actor_email=None).update(
            actor_email=None
        )
        # Dependents first, the person's own row (accounts' profile, registered first) last.
        return {entry.section: entry.erase(entry.rows_of(user.pk)) for entry in reversed(entries)}


def audit_trail_scrub(model: type[models.Model], rows: QuerySet[Any]) -> None:
    """Empty what the audit trails say about `rows` (of `model`). Run for every entry's rows;
    an entry whose erasure changes rows of another model (a conversation's messages) runs it
    for those itself, before changing them."""
    content_type = ContentType.objects.get_for_model(model)
    if auditlog.contains(model):
        AuditLogEntry.objects.filter(
            content_type=content_type, object_id__in=rows.values("pk")
        ).update(object_repr=ERASED, changes=None, changes_text="", serialized_data=None)
    # The admin's log keeps object ids as text.
    AdminLogEntry.objects.filter(
        content_type=content_type,
        object_id__in=rows.annotate(pk_text=Cast("pk", models.TextField())).values("pk_text"),
    ).update(object_repr=ERASED, change_message="")
