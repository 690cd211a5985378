"""Consent: what each person agreed to hear, per channel and purpose, and every change of it.

`consent_record` is the one writer. It keeps ChannelConsent, the current state the channels
read, and ConsentRecord, the history the export and the admin show, in step in one transaction.
Each channel serves one purpose today (WhatsApp: conversations; email: briefs), so the current
state is kept per channel.

A person with no ChannelConsent row has never said, and the channels treat them as opted in
(WhatsApp answers whoever writes; briefs go only to those whose preferences are on). Their first
explicit choice is recorded even when it confirms that (a START from someone who never sent
STOP); after that, only changes are: a second STOP, or an unsubscribe link clicked twice,
changes nothing and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from privacy.models import ChannelConsent, ConsentRecord

if TYPE_CHECKING:
    from accounts.models import User


def consent_record(
    *,
    user: User,
    channel: str,
    purpose: str,
    granted: bool,
    source: str,
    at: datetime | None = None,
) -> bool:
    """Record a person's choice on a channel; True when their state there changed (no row
    counts as opted in)."""
    if purpose not in ConsentRecord.Purpose.values:
        raise ValueError(f"Unknown consent purpose {purpose!r}.")
    if source not in ConsentRecord.Source.values:
        raise ValueError(f"Unknown consent source {source!r}.")
    at = at or timezone.now()
    opted_out = not granted
    with transaction.atomic():
        consent, created = ChannelConsent.objects.select_for_update().get_or_create(
            user=user, channel=channel, defaults={"opted_out": opted_out, "changed_at": at}
        )
        if not created:
            if consent.opted_out == opted_out:
                return False
            # Saved, not updated, so that the audit log keeps the change too.
            consent.opted_out = opted_out
            consent.changed_at = at
            consent.save(update_fields=["opted_out", "changed_at"])
        ConsentRecord.objects.create(
            user=user,
            channel=channel,
            purpose=purpose,
            granted=granted,
            source=source,
            recorded_at=at,
        )
    return opted_out if created else True
