"""Writes of the email channel other than sending: preferences, unsubscribing, and what the ESPs'
tracking webhooks report."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from channels_app.email import schedule
from channels_app.email.models import (
    DisabledReason,
    EmailEvent,
    EmailPreferences,
    EmailSend,
)
from channels_app.events import EventKind, event_record
from channels_app.models import Channel
from privacy.consent import consent_record
from privacy.fields import email_index
from privacy.models import ConsentRecord

logger = logging.getLogger(__name__)

EDITABLE = frozenset(
    {
        "enabled",
        "delivery_time",
        "time_zone",
        "frequency",
        "weekday",
        "custom_days",
        "sections",
        "min_priority",
        "digest_format",
        "email",
    }
)


def preferences_default(user: User) -> EmailPreferences:
    """What a person without preferences would get: unsaved, and not subscribed."""
    return EmailPreferences(user=user, enabled=False, time_zone=user.time_zone or "UTC")


@transaction.atomic
def preferences_update(
    *,
    user: User,
    now: datetime,
    consent_source: str = ConsentRecord.Source.SETTINGS,
    **changes: Any,
) -> EmailPreferences:
    """Create or change a person's preferences and reschedule their next brief. Raises
    ValidationError (by field) and writes nothing when a value is wrong. Subscribing or
    unsubscribing is recorded as the person's consent to the briefs, from `consent_source`."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not a preference."))
    if user.tenant_id is None:
        raise ValidationError("Only people of a workspace get briefs.")
    preferences = EmailPreferences.objects.select_for_update().filter(user=user).first()
    if preferences is None:
        preferences = EmailPreferences(user=user, time_zone=user.time_zone or "UTC")
    was_enabled = preferences.enabled if preferences.pk else None
    for name, value in changes.items():
        setattr(preferences, name, value)
    if "enabled" in changes and changes["enabled"] != was_enabled:
        # Turned back on, a bounce or an unsubscribe no longer holds: the person chose.
        preferences.disabled_reason = (
            DisabledReason.NONE if preferences.enabled else DisabledReason.USER
        )
        preferences.disabled_at = None if preferences.enabled else now
    preferences.full_clean(exclude=["user"])
    preferences.next_send_at = (
        schedule.next_occurrence(preferences, after=now) if preferences.enabled else None
    )
    preferences.save()
    if preferences.enabled != was_enabled:
        consent_record(
            user=user,
            channel=Channel.EMAIL,
            purpose=ConsentRecord.Purpose.BRIEFS,
            granted=preferences.enabled,
            source=consent_source,
            at=now,
        )
    return preferences


def unsubscribe(*, user: User, source: str, now: datetime | None = None) -> bool:
    """Stop the person's briefs; True when they were subscribed. Saved, not updated, so that
    the audit log keeps the change."""
    return _disable(
        user=user, reason=DisabledReason.UNSUBSCRIBED, source=source, now=now or timezone.now()
    )


# The reasons that are the person's choice (a bounce is not), and where each source's choice
# came from.
_WITHDRAWN_CONSENT = frozenset({DisabledReason.UNSUBSCRIBED, DisabledReason.COMPLAINED})
_CONSENT_SOURCES = {
    "page": ConsentRecord.Source.UNSUBSCRIBE_LINK,
    "one_click": ConsentRecord.Source.UNSUBSCRIBE_LINK,
    "api": ConsentRecord.Source.UNSUBSCRIBE_LINK,
    "esp": ConsentRecord.Source.ESP_EVENT,
}


def _disable(*, user: User, reason: str, source: str, now: datetime) -> bool:
    with transaction.atomic():
        preferences = EmailPreferences.objects.select_for_update().filter(user=user).first()
        if preferences is None:
            # Remembered, so that nothing subscribes them again by default.
            preferences = preferences_default(user)
        elif not preferences.enabled and preferences.disabled_reason == reason:
            return False
        changed = preferences.enabled
        preferences.enabled = False
        preferences.disabled_reason = reason
        preferences.disabled_at = now
        preferences.next_send_at = None
        preferences.save()
        if reason in _WITHDRAWN_CONSENT:
            consent_record(
                user=user,
                channel=Channel.EMAIL,
                purpose=ConsentRecord.Purpose.BRIEFS,
                granted=False,
                source=_CONSENT_SOURCES[source],
                at=now,
            )
    if user.tenant is not None:
        event_record(
            tenant=user.tenant,
            kind=EventKind.DELIVERY_UPDATED,
            channel=Channel.EMAIL,
            data={"user_id": user.pk, "status": f"briefs_{reason}", "source": source},
        )
    return changed


def address_disable(*, address: str, reason: str, now: datetime) -> int:
    """Stop the briefs going to an address that bounced or complained, whoever's preferences
    name it (their own address, or their account's when they set none)."""
    if not address:
        return 0
    index = email_index(address)
    matching = EmailPreferences.objects.filter(
        Q(email_hash=index) | Q(email_hash="", user__email_hash=index)
    ).select_related("user__tenant")
    return sum(_disable(user=p.user, reason=reason, source="esp", now=now) for p in matching)


# Tracking

# Forward only: a late "delivered" never undoes a bounce.
_STATUS_AFTER: dict[str, tuple[str, ...]] = {
    EmailSend.Status.DELIVERED: (EmailSend.Status.SENDING, EmailSend.Status.SENT),
    EmailSend.Status.BOUNCED: (
        EmailSend.Status.SENDING,
        EmailSend.Status.SENT,
        EmailSend.Status.DELIVERED,
    ),
    EmailSend.Status.REJECTED: (EmailSend.Status.SENDING, EmailSend.Status.SENT),
}
_HARD_REJECTS = frozenset({RejectReason.BOUNCED, RejectReason.INVALID})


def _send_of(event: AnymailTrackingEvent) -> EmailSend | None:
    send_id = (event.metadata or {}).get("send_id")
    if isinstance(send_id, str) and send_id.isdecimal():
        found = EmailSend.objects.select_related("tenant").filter(pk=int(send_id)).first()
        if found is not None:
            return found
    if event.message_id:
        return (
            EmailSend.objects.select_related("tenant")
            .filter(esp_message_id=str(event.message_id))
            .order_by("-created_at")
            .first()
        )
    return None


def _event_key(event: AnymailTrackingEvent, esp: str) -> str:
    if event.event_id:
        return str(event.event_id)[:128]
    # No id from the ESP: the same event repeated is the same message, type, time and address.
    raw = "|".join(
        str(part)
        for part in (esp, event.message_id, event.event_type, event.timestamp, event.recipient)
    )
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _is_soft_bounce(event: AnymailTrackingEvent) -> bool:
    # SendGrid reports a temporary block ("blocked") as a bounce; Mailgun's temporary failures
    # are anymail's "deferred" already.
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    return str(esp_event.get("type", "")).lower() == "blocked"


def tracking_event_apply(*, event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Apply one of anymail's normalised tracking events; True when it was new. A repeat of an
    event already stored changes nothing, so counts and rates count it once."""
    send = _send_of(event)
    esp = esp_name.lower()
    if send is None:
        logger.info("email tracking: %s %s for an unknown message", esp, event.event_type)
        return False
    at = event.timestamp or timezone.now()
    kind = event.event_type
    with transaction.atomic():
        try:
            with transaction.atomic():
                EmailEvent.objects.create(
                    send=send,
                    esp=esp,
                    event_key=_event_key(event, esp),
                    event_type=kind,
                    occurred_at=at,
                    data={
                        name: str(value)
                        for name, value in (
                            ("reject_reason", event.reject_reason),
                            ("soft", _is_soft_bounce(event) if kind == EventType.BOUNCED else None),
                        )
                        if value is not None
                    },
                )
        except IntegrityError:
            return False
        rows = EmailSend.objects.filter(pk=send.pk)
        disable = ""
        status = ""
        if kind in (EventType.DELIVERED, EventType.OPENED, EventType.CLICKED):
            # An open or a click proves the delivery even when "delivered" is late or lost.
            status = EmailSend.Status.DELIVERED
            rows.filter(delivered_at__isnull=True).update(delivered_at=at)
        if kind in (EventType.OPENED, EventType.CLICKED):
            rows.filter(opened_at__isnull=True).update(opened_at=at)
        if kind == EventType.OPENED:
            rows.update(open_count=F("open_count") + 1)
        if kind == EventType.CLICKED:
            rows.filter(clicked_at__isnull=True).update(clicked_at=at)
            rows.update(click_count=F("click_count") + 1)
        if kind == EventType.BOUNCED and not _is_soft_bounce(event):
            status, disable = EmailSend.Status.BOUNCED, DisabledReason.BOUNCED
            rows.filter(bounced_at__isnull=True).update(bounced_at=at)
        if kind == EventType.REJECTED:
            status = EmailSend.Status.REJECTED
            if event.reject_reason in _HARD_REJECTS:
                disable = DisabledReason.BOUNCED
            elif event.reject_reason == RejectReason.SPAM:
                disable = DisabledReason.COMPLAINED
        if kind == EventType.COMPLAINED:
            disable = DisabledReason.COMPLAINED
            rows.filter(complained_at__isnull=True).update(complained_at=at)
        if kind == EventType.UNSUBSCRIBED:
            disable = DisabledReason.UNSUBSCRIBED
            rows.filter(unsubscribed_at__isnull=True).update(unsubscribed_at=at)
        moved = bool(status) and rows.filter(status__in=_STATUS_AFTER[status]).update(status=status)
        if moved and status != EmailSend.Status.DELIVERED:
            event_record(
                tenant=send.tenant,
                kind=EventKind.DELIVERY_UPDATED,
                channel=Channel.EMAIL,
                data={"send_id": send.pk, "status": status, "esp": esp},
            )
    if disable:
        address_disable(address=send.to_email or event.recipient or "", reason=disable, now=at)
    return True
