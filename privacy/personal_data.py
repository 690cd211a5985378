"""What privacy holds about a person, registered with privacy's registry (export, erasure).

Not registered, on purpose: the access log (AdminAccessLog), whose rows are staff members' own
reads, append-only by law (a trigger refuses changes), and which points at people by id only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from privacy.models import ChannelConsent, ConsentRecord, DataRequest
from privacy.registry import erase_delete, erase_keep, export_values, personal_data_register


def data_requests_erase(requests: QuerySet[Any]) -> int:
    """An export is a copy of everything erased: a finished one's payload goes, an unfinished
    one fails (data_export_run stores a payload only for a request still running). The requests
    themselves stay, as the record that they were honoured."""
    now = timezone.now()
    exports = requests.filter(kind=DataRequest.Kind.EXPORT)
    stopped = exports.filter(
        status__in=[DataRequest.Status.PENDING, DataRequest.Status.RUNNING]
    ).update(
        status=DataRequest.Status.FAILED,
        error="The person was erased before the export finished.",
        finished_at=now,
    )
    exports.filter(expires_at__gt=now).update(expires_at=now)
    return stopped + exports.filter(status=DataRequest.Status.DONE).update(payload="")


personal_data_register(
    ChannelConsent,
    subject="user",
    section="channel_consents",
    export=export_values("channel", "opted_out", "changed_at"),
    # The current state only tells the channels whether to write; an erased person gets nothing.
    erase=erase_delete,
)
personal_data_register(
    ConsentRecord,
    subject="user",
    section="consent_history",
    export=export_values("channel", "purpose", "granted", "source", "recorded_at"),
    # The history proves consent was given (art. 7(1)); anonymised with its user, it stays.
    erase=erase_keep,
)
personal_data_register(
    DataRequest,
    subject="subject",
    section="data_requests",
    export=export_values("kind", "status", "created_at", "finished_at", "expires_at"),
    erase=data_requests_erase,
)
