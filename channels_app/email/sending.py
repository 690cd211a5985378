"""Sending briefs and custom emails: claim, compose, render, send through the ESPs, record.

A brief is claimed before it is composed: the row unique per (person, brief date) is inserted,
or an earlier failed or abandoned one is taken back with a conditional update, so two workers or
two runs never send the same brief twice. The claim holds for LEASE: a worker that died while
sending leaves a claim the next attempt may take over (at the risk of a second copy if the ESP
had already accepted it: at least once beats never).

A batch of briefs costs the same queries for 5 briefs as for 50: its claims are made together,
its readers' approvals read together, and what each brief became (the row and its event) is
written together once the batch is through, or as far as it got when something raised.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Tenant, User
from agents.types import AgentType
from channels_app.email import schedule
from channels_app.email.backends import EmailRejected
from channels_app.email.compose import (
    Brief,
    Links,
    TenantBriefData,
    brief_compose,
    brief_prose,
    prose_wanted,
    readers_approvals,
    tenant_brief_data,
)
from channels_app.email.models import (
    BriefRun,
    DisabledReason,
    EmailPreferences,
    EmailSend,
    Section,
)
from channels_app.email.render import (
    BriefRenderer,
    Rendered,
    brief_render,
    brief_text,
    custom_render,
)
from channels_app.email.tokens import PREFERENCES, UNSUBSCRIBE, token_make
from channels_app.events import Event, EventKind, event_record
from channels_app.models import Channel
from channels_app.transports import TransportError
from hitl.models import Approval

logger = logging.getLogger(__name__)

FAILOVER_BACKEND = "channels_app.email.backends.FailoverEmailBackend"
LEASE = timedelta(minutes=10)
# A brief more than this late (the scheduler was down) is skipped: yesterday's news.
STALE_AFTER = timedelta(hours=12)
DISPATCH_CHUNK = 1000
# A batch's briefs that no ESP took are tried again this many times, 1, 2 and 4 minutes later.
EMAIL_RETRIES = 3
SENT_STATUSES = (EmailSend.Status.SENT, EmailSend.Status.DELIVERED)
SUPPRESSING = (DisabledReason.BOUNCED, DisabledReason.COMPLAINED)


# Links in emails


def base_url() -> str:
    return settings.PUBLIC_BASE_URL or "http://localhost:8000"


def links_for(user: User) -> Links:
    base = base_url()
    return Links(
        console=base + reverse("admin:index"),
        preferences=f"{base}{reverse('email-preferences-page')}?token="
        + token_make(user_id=user.pk, purpose=PREFERENCES),
        unsubscribe=f"{base}{reverse('email-unsubscribe-page')}?token="
        + token_make(user_id=user.pk, purpose=UNSUBSCRIBE),
    )


def one_click_url(user: User) -> str:
    """RFC 8058: the URL a mail client POSTs `List-Unsubscribe=One-Click` to."""
    token = token_make(user_id=user.pk, purpose=UNSUBSCRIBE)
    return f"{base_url()}{reverse('email-unsubscribe')}?token={token}"


def connection() -> Any:
    """The failover backend itself: Django's test runner swaps EMAIL_BACKEND for its own."""
    return get_connection(FAILOVER_BACKEND)


# One email out


def _message(
    *, send: EmailSend, rendered: Rendered, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[send.to_email],
        headers=headers or {},
    )
    message.attach_alternative(rendered.html, "text/html")
    # anymail's options: metadata comes back with every tracking event, whichever ESP sent it.
    message.metadata = {"send_id": str(send.pk)}  # type: ignore[attr-defined]
    message.tags = [send.kind]  # type: ignore[attr-defined]
    message.track_opens = True  # type: ignore[attr-defined]
    message.track_clicks = True  # type: ignore[attr-defined]
    return message


def _send_through(*, message: EmailMultiAlternatives, mail: Any) -> dict[str, Any]:
    """Send through the ESPs: what the message's row is to say of it."""
    try:
        mail.send_messages([message])
    except TransportError as exc:
        status = EmailSend.Status.REJECTED if not exc.retryable else EmailSend.Status.FAILED
        return {"status": status, "error_code": exc.code[:64], "error_message": str(exc)[:300]}
    esp_status = getattr(message, "anymail_status", None)
    return {
        "status": EmailSend.Status.SENT,
        "esp": message.esp,  # type: ignore[attr-defined]
        "esp_message_id": str(esp_status.message_id or "")[:255] if esp_status else "",
        "failed_over": bool(message.esp_failures),  # type: ignore[attr-defined]
        "error_code": ",".join(message.esp_failures)[:64],  # type: ignore[attr-defined]
        "error_message": "",
        "sent_at": timezone.now(),
    }


def _sent_event_data(send: EmailSend) -> dict[str, Any]:
    return {
        "send_id": send.pk,
        "kind": send.kind,
        "status": send.status,
        "esp": send.esp,
        "failed_over": send.failed_over,
        **({"error_code": send.error_code} if send.error_code else {}),
    }


def deliver(*, send: EmailSend, message: EmailMultiAlternatives, mail: Any) -> EmailSend:
    """Send through the ESPs and record what happened on the row (and in the event log)."""
    changes = _send_through(message=message, mail=mail)
    EmailSend.objects.filter(pk=send.pk).update(**changes)
    for name, value in changes.items():
        setattr(send, name, value)
    event_record(
        tenant=send.tenant,
        kind=EventKind.EMAIL_SENT,
        channel=Channel.EMAIL,
        data=_sent_event_data(send),
    )
    return send


# What a batch's briefs became: written together by `_record`.
RECORDED_FIELDS = (
    "status",
    "subject",
    "data",
    "esp",
    "esp_message_id",
    "failed_over",
    "error_code",
    "error_message",
    "sent_at",
)


# Briefs sent between two writes of what they became: a worker killed between a send and its
# record resends at most this many, once their claims expire (one write a brief cost as much as
# the rest of a brief's database work).
RECORD_EVERY = 10


def _record(*, sends: Sequence[EmailSend], sent: Sequence[EmailSend]) -> None:
    """Write what a batch's briefs became (`sends`) and an event for each one that went through
    the ESPs (`sent`), in one transaction of three queries. The rows are locked and read first:
    a status moves on only from "sending" (a tracking event that came in first, "delivered" or
    a bounce, is never undone), and a row deleted meanwhile stays deleted."""
    if not sends:
        return
    events = [
        Event(
            tenant_id=send.tenant_id,
            kind=EventKind.EMAIL_SENT,
            channel=Channel.EMAIL,
            data=_sent_event_data(send),
        )
        for send in sent
    ]
    with transaction.atomic():
        current = dict(
            EmailSend.objects.select_for_update()
            .filter(pk__in=[send.pk for send in sends])
            .values_list("pk", "status")
        )
        present = [send for send in sends if send.pk in current]
        for send in present:
            if current[send.pk] != EmailSend.Status.SENDING:
                send.status = current[send.pk]
        # Every row exists and is locked: the upsert only ever updates, in one statement where
        # bulk_update's CASE expressions cost as much as one UPDATE a row. Only these fields
        # change; the encrypted ones are encrypted as on any save.
        EmailSend.objects.bulk_create(
            present, update_conflicts=True, unique_fields=["id"], update_fields=RECORDED_FIELDS
        )
        Event.objects.bulk_create(events)


# Briefs


@dataclass(frozen=True)
class BriefOutcome:
    status: str  # sent, skipped or failed
    reason: str = ""
    send: EmailSend | None = None
    retryable: bool = False


def _skipped(reason: str) -> BriefOutcome:
    return BriefOutcome("skipped", reason)


def _brief_claim_row(
    preferences: EmailPreferences, brief_date: date, run: BriefRun | None, now: datetime
) -> EmailSend:
    """The row that claims a person's brief of a day, not saved yet."""
    user = preferences.user
    return EmailSend(
        tenant=user.member_tenant,
        user=user,
        run=run,
        kind=EmailSend.Kind.DAILY_BRIEF,
        template="daily_brief",
        brief_date=brief_date,
        to_email=preferences.address,
        status=EmailSend.Status.SENDING,
        created_at=now,
        claimed_at=now,
    )


def brief_claim(
    *, preferences: EmailPreferences, brief_date: date, run: BriefRun | None, now: datetime
) -> tuple[EmailSend | None, bool]:
    """The claimed row, or None when the brief is sent or being sent; True as the second value
    when this very run sent it already (its batch is running again after a crash)."""
    user = preferences.user
    try:
        with transaction.atomic():
            send = _brief_claim_row(preferences, brief_date, run, now)
            send.save(force_insert=True)
            return send, False
    except IntegrityError:
        pass
    existing = EmailSend.objects.filter(
        user=user, kind=EmailSend.Kind.DAILY_BRIEF, brief_date=brief_date
    ).first()
    if existing is None:
        return None, False
    if run is not None and existing.run_id == run.pk and existing.status in SENT_STATUSES:
        return existing, True
    taken = (
        EmailSend.objects.filter(pk=existing.pk)
        .filter(_takeable_rows(now))
        .update(status=EmailSend.Status.SENDING, claimed_at=now, run=run)
    )
    if not taken:
        return None, False
    existing.refresh_from_db()
    return existing, False


class _ClaimRace(Exception):
    """A row of the batch changed under the claims made together: each claims alone instead."""


def brief_claims(
    *, wanted: Sequence[tuple[EmailPreferences, date]], run: BriefRun | None, now: datetime
) -> list[tuple[EmailSend | None, bool]]:
    """`brief_claim` for each of a batch, in order, made together: the existing rows are read
    and locked, the new ones inserted in one statement, the ones to take back updated in one.
    When another worker inserted one of the rows meanwhile (the insert fails) each brief is
    claimed alone, as `brief_claim` does, so the rows decide exactly as they would one by one."""
    if not wanted:
        return []
    try:
        with transaction.atomic():
            return _claims_together(wanted=wanted, run=run, now=now)
    except (IntegrityError, _ClaimRace):
        return [brief_claim(preferences=p, brief_date=d, run=run, now=now) for p, d in wanted]


def _takeable_rows(now: datetime) -> Q:
    """The claims a sender may take over: failed, or being sent by a claim past its lease."""
    return Q(status=EmailSend.Status.FAILED) | Q(
        status=EmailSend.Status.SENDING, claimed_at__lt=now - LEASE
    )


def _takeable(send: EmailSend, now: datetime) -> bool:
    """`_takeable_rows`, of a row in hand."""
    if send.status == EmailSend.Status.FAILED:
        return True
    return (
        send.status == EmailSend.Status.SENDING
        and send.claimed_at is not None
        and send.claimed_at < now - LEASE
    )


def _claims_together(
    *, wanted: Sequence[tuple[EmailPreferences, date]], run: BriefRun | None, now: datetime
) -> list[tuple[EmailSend | None, bool]]:
    existing = {
        (send.user_id, send.brief_date): send
        for send in EmailSend.objects.select_for_update().filter(
            kind=EmailSend.Kind.DAILY_BRIEF,
            user_id__in={p.user_id for p, _ in wanted},
            brief_date__in={d for _, d in wanted},
        )
    }
    claims: list[tuple[EmailSend | None, bool]] = []
    fresh: list[EmailSend] = []
    taken: list[EmailSend] = []
    for preferences, brief_date in wanted:
        key = (preferences.user_id, brief_date)
        send = existing.get(key)
        if send is None:
            send = _brief_claim_row(preferences, brief_date, run, now)
            # The same brief twice in one batch: the second finds the first's claim.
            existing[key] = send
            fresh.append(send)
            claims.append((send, False))
        elif run is not None and send.run_id == run.pk and send.status in SENT_STATUSES:
            claims.append((send, True))
        elif send not in taken and _takeable(send, now):
            taken.append(send)
            claims.append((send, False))
        else:
            claims.append((None, False))
    if fresh:
        EmailSend.objects.bulk_create(fresh)
    if taken:
        moved = (
            EmailSend.objects.filter(pk__in=[send.pk for send in taken])
            .filter(_takeable_rows(now))
            .update(status=EmailSend.Status.SENDING, claimed_at=now, run=run)
        )
        if moved != len(taken):
            raise _ClaimRace  # the lock did not hold them (a database without row locks)
        for send in taken:
            send.status, send.claimed_at, send.run = EmailSend.Status.SENDING, now, run
    return claims


class BriefSender:
    """Sends briefs of one tenant: its data is read once, on the first brief that needs it, one
    ESP connection serves them all, and briefs that say the same are rendered once
    (`BriefRenderer`). Close it when done."""

    def __init__(self, *, tenant: Tenant, now: datetime) -> None:
        self.tenant = tenant
        self.now = now
        self._data: TenantBriefData | None = None
        self._mail: Any = None
        self._renderer = BriefRenderer()

    @property
    def data(self) -> TenantBriefData:
        if self._data is None:
            self._data = tenant_brief_data(self.tenant)
        return self._data

    @property
    def mail(self) -> Any:
        if self._mail is None:
            self._mail = connection()
        return self._mail

    def close(self) -> None:
        if self._mail is not None:
            self._mail.close()

    def compose(
        self,
        preferences: EmailPreferences,
        brief_date: date,
        *,
        approvals: tuple[list[Approval], int] | None = None,
    ) -> Brief:
        brief = brief_compose(
            preferences=preferences,
            brief_date=brief_date,
            data=self.data,
            now=self.now,
            links=links_for(preferences.user),
            base=base_url(),
            approvals=approvals,
        )
        if prose_wanted(self.data):
            brief.prose = brief_prose(brief, self.data, brief_text(brief))
        return brief

    def _skip_reason(self, preferences: EmailPreferences) -> str:
        user = preferences.user
        if not settings.ENABLE_EMAIL_BRIEFS:
            return "briefs_disabled"
        if not preferences.enabled:
            return "user_disabled"
        if not user.is_active or user.is_deleted or not self.tenant.is_active:
            return "user_inactive"
        if not preferences.address:
            return "no_email"
        if not self.data.enabled(AgentType.PERSONAL):
            return "agent_disabled"
        return ""

    def send(
        self, preferences: EmailPreferences, brief_date: date, *, run: BriefRun | None = None
    ) -> BriefOutcome:
        return self.send_many([(preferences, brief_date)], run=run)[0]

    def send_many(
        self, items: Sequence[tuple[EmailPreferences, date]], *, run: BriefRun | None = None
    ) -> list[BriefOutcome]:
        """Each brief's outcome, in order. The claims are made together, the readers'
        approvals read together, each brief composed, rendered and sent on its own, and what
        they became recorded together: the queries do not grow with the number of briefs. What
        went out is recorded even when a later brief raises."""
        outcomes: dict[int, BriefOutcome] = {}
        wanted: list[int] = []
        for index, (preferences, _day) in enumerate(items):
            reason = self._skip_reason(preferences)
            if reason:
                outcomes[index] = _skipped(reason)
            else:
                wanted.append(index)
        claims = brief_claims(wanted=[items[i] for i in wanted], run=run, now=self.now)
        claimed: list[tuple[int, EmailSend]] = []
        for index, (send, done_before) in zip(wanted, claims, strict=True):
            if send is None:
                outcomes[index] = _skipped("already_sent")
            elif done_before:
                outcomes[index] = BriefOutcome("sent", send=send)
            else:
                claimed.append((index, send))
        readers = [
            items[index][0].user
            for index, _send in claimed
            if Section.ACTION_ITEMS in items[index][0].sections
        ]
        approvals = readers_approvals(readers) if readers else {}
        recorded: list[EmailSend] = []
        sent: list[EmailSend] = []
        try:
            for index, send in claimed:
                preferences, brief_date = items[index]
                recorded.append(send)
                outcomes[index] = self._send_one(
                    preferences, brief_date, send, approvals.get(preferences.user_id), sent
                )
                if len(recorded) >= RECORD_EVERY:
                    # A worker killed here resends at most these once their claims expire.
                    _record(sends=recorded, sent=sent)
                    recorded, sent = [], []
        finally:
            _record(sends=recorded, sent=sent)
        return [outcomes[index] for index in range(len(items))]

    def _send_one(
        self,
        preferences: EmailPreferences,
        brief_date: date,
        send: EmailSend,
        approvals: tuple[list[Approval], int] | None,
        sent: list[EmailSend],
    ) -> BriefOutcome:
        """Compose, render and send one claimed brief; its row changes in memory only (and
        joins `sent` once the ESPs answered), for `_record` to write."""
        user = preferences.user
        try:
            brief = self.compose(preferences, brief_date, approvals=approvals)
            rendered = self._renderer.render(brief)
        except Exception:
            # A bug in one brief must not stop the others of the batch.
            logger.exception("brief for user %s on %s could not be composed", user.pk, brief_date)
            send.status, send.error_code = EmailSend.Status.FAILED, "compose_error"
            return BriefOutcome("failed", "compose_error", send=send)
        send.subject = rendered.subject
        send.data = {
            "sections": [s.key for s in brief.sections],
            "format": brief.digest_format,
            "action_items": len(brief.action_items) + brief.more_actions,
            "urgent": brief.urgent_count,
            "prose": bool(brief.prose),
        }
        unsubscribe = one_click_url(user)
        message = _message(
            send=send,
            rendered=rendered,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        for name, value in _send_through(message=message, mail=self.mail).items():
            setattr(send, name, value)
        sent.append(send)
        if send.status == EmailSend.Status.SENT:
            return BriefOutcome("sent", send=send)
        return BriefOutcome(
            "failed",
            send.error_code,
            send=send,
            retryable=send.status == EmailSend.Status.FAILED,
        )


def brief_preview(*, user: User, now: datetime) -> tuple[Brief, Rendered]:
    """Today's brief for the user as it would be sent now, without sending or recording it."""
    preferences = EmailPreferences.objects.filter(user=user).first() or EmailPreferences(
        user=user, time_zone=user.time_zone or "UTC"
    )
    sender = BriefSender(tenant=user.member_tenant, now=now)
    brief = sender.compose(preferences, schedule.brief_date_of(preferences, now))
    return brief, brief_render(brief)


def brief_send_now(*, user: User, now: datetime) -> BriefOutcome:
    """Today's brief (in the person's time zone), now: POST send-daily-brief."""
    preferences = EmailPreferences.objects.select_related("user__tenant").filter(user=user).first()
    if preferences is None:
        return _skipped("not_subscribed")
    sender = BriefSender(tenant=user.member_tenant, now=now)
    try:
        return sender.send(preferences, schedule.brief_date_of(preferences, now))
    finally:
        sender.close()


# The schedule


def briefs_dispatch(*, now: datetime) -> list[BriefRun]:
    """Hand the briefs due by `now` to workers: one run per tenant, batches of
    EMAIL_BRIEF_BATCH. Each person's next delivery moves on first, under a row lock that a
    second dispatcher skips, so two dispatchers running at once never hand out the same brief."""
    if not settings.ENABLE_EMAIL_BRIEFS:
        return []
    items: dict[int, list[tuple[int, str]]] = {}
    late: Counter[int] = Counter()
    first: dict[int, datetime] = {}
    while True:
        with transaction.atomic():
            # Locked until they have moved on; SKIP LOCKED: a dispatcher running at the same
            # time takes other people, never the same.
            due = list(
                EmailPreferences.objects.filter(enabled=True, next_send_at__lte=now)
                .select_related("user")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_send_at", "pk")[:DISPATCH_CHUNK]
            )
            # People due together mostly move on to the same instant: one UPDATE an instant.
            moving: dict[datetime | None, list[int]] = {}
            for preferences in due:
                planned = preferences.next_send_at
                assert planned is not None
                occurrence = schedule.latest_occurrence(preferences, since=planned, until=now)
                following = schedule.next_occurrence(preferences, after=now)
                moving.setdefault(following, []).append(preferences.pk)
                tenant_id = preferences.user.tenant_id
                if tenant_id is None:
                    continue
                first[tenant_id] = min(first.get(tenant_id, occurrence), occurrence)
                if now - occurrence > STALE_AFTER:
                    late[tenant_id] += 1
                    continue
                brief_date = schedule.brief_date_of(preferences, occurrence)
                items.setdefault(tenant_id, []).append((preferences.pk, brief_date.isoformat()))
            for following, pks in moving.items():
                EmailPreferences.objects.filter(pk__in=pks).update(next_send_at=following)
        if len(due) < DISPATCH_CHUNK:
            break
    runs = []
    for tenant_id in sorted(first):
        tenant_items = items.get(tenant_id, [])
        run = BriefRun.objects.create(
            tenant_id=tenant_id,
            started_at=now,
            first_due_at=first[tenant_id],
            due=len(tenant_items) + late[tenant_id],
            skipped=late[tenant_id],
        )
        run_finish(run_id=run.pk, now=now)
        size = max(1, settings.EMAIL_BRIEF_BATCH)
        for start in range(0, len(tenant_items), size):
            batch_enqueue(run_id=run.pk, items=tenant_items[start : start + size])
        runs.append(run)
    return runs


def batch_enqueue(*, run_id: int, items: list[tuple[int, str]], attempt: int = 0) -> None:
    from channels_app.email.tasks import briefs_batch_task

    batch = uuid.uuid4().hex

    def enqueue() -> None:
        try:
            briefs_batch_task.apply_async(
                (run_id, items, attempt, batch), countdown=retry_delay(attempt)
            )
        except Exception:
            # The people's next delivery has moved on already: without a broker, send here.
            logger.warning("brief batch of run %s could not be enqueued; sending inline", run_id)
            briefs_batch_send(run_id=run_id, items=items, attempt=attempt, batch=batch)

    transaction.on_commit(enqueue)


def retry_delay(attempt: int) -> int:
    return 0 if attempt == 0 else 60 * 2 ** (attempt - 1)


def briefs_batch_send(
    *,
    run_id: int,
    items: list[tuple[int, str]],
    attempt: int = 0,
    batch: str = "",
    now: datetime | None = None,
) -> Counter[str]:
    """Send a batch of one run's briefs and add the outcomes to the run's counters, once per
    `batch` key. A batch after the first attempt resends what failed for want of an ESP, which
    the run counted as failed already; what fails again so is tried again, EMAIL_RETRIES times.
    """
    run = BriefRun.objects.select_related("tenant").get(pk=run_id)
    now = now or timezone.now()
    preferences = {
        p.pk: p
        for p in EmailPreferences.objects.filter(
            pk__in=[pk for pk, _ in items], user__tenant=run.tenant
        ).select_related("user__tenant")
    }
    found = [(pk, day) for pk, day in items if pk in preferences]
    sender = BriefSender(tenant=run.tenant, now=now)
    try:
        sent = sender.send_many(
            [(preferences[pk], date.fromisoformat(day)) for pk, day in found], run=run
        )
    finally:
        sender.close()
    outcomes: Counter[str] = Counter()
    outcomes["skipped"] += len(items) - len(found)  # unsubscribed since they were handed out
    again: list[tuple[int, str]] = []
    for item, outcome in zip(found, sent, strict=True):
        outcomes[outcome.status] += 1
        if outcome.retryable:
            again.append(item)
    with transaction.atomic():
        counted = BriefRun.objects.select_for_update().get(pk=run.pk)
        if batch and batch in counted.counted_batches:
            return outcomes  # a worker ran this batch again: its briefs were counted already
        if attempt:
            # Counted as failed by the first attempt: move what changed since.
            counted.sent += outcomes["sent"]
            counted.skipped += outcomes["skipped"]
            counted.failed -= outcomes["sent"] + outcomes["skipped"]
        else:
            counted.sent += outcomes["sent"]
            counted.skipped += outcomes["skipped"]
            counted.failed += outcomes["failed"]
        if batch:
            counted.counted_batches.append(batch)
        counted.save(update_fields=["sent", "skipped", "failed", "counted_batches"])
        if again and attempt < EMAIL_RETRIES:
            batch_enqueue(run_id=run.pk, items=again, attempt=attempt + 1)
    run_finish(run_id=run.pk, now=now)
    return outcomes


def run_finish(*, run_id: int, now: datetime) -> None:
    """Mark the run finished once every due brief is accounted for."""
    BriefRun.objects.filter(
        pk=run_id, finished_at__isnull=True, due__lte=F("sent") + F("skipped") + F("failed")
    ).update(finished_at=now)


# Custom emails


def custom_email_send(
    *, sender: User, recipient: User, subject: str, body: str, template: str, now: datetime
) -> EmailSend:
    """A message written in the console, to a person of the sender's workspace. Refused
    (EmailRejected, code "suppressed") to an address that bounced or complained."""
    preferences = EmailPreferences.objects.filter(user=recipient).first()
    address = preferences.address if preferences else recipient.email
    if not address:
        raise EmailRejected("This person has no email address.", code="no_email")
    if (
        preferences is not None
        and preferences.disabled_reason in SUPPRESSING
        and address == preferences.address
    ):
        raise EmailRejected(
            f"This address is suppressed: it {preferences.get_disabled_reason_display().lower()}.",
            code="suppressed",
        )
    send = EmailSend.objects.create(
        tenant=recipient.member_tenant,
        user=recipient,
        kind=EmailSend.Kind.CUSTOM,
        template=template,
        to_email=address,
        subject=subject,
        sent_by=sender,
        status=EmailSend.Status.SENDING,
        created_at=now,
        claimed_at=now,
    )
    links = links_for(recipient)
    rendered = custom_render(
        template=template,
        subject=subject,
        body=body,
        recipient_name=recipient.first_name or recipient.username,
        sender_name=sender.get_full_name() or sender.username,
        tenant_name=recipient.member_tenant.name,
        preferences_url=links.preferences,
        console_url=links.console,
    )
    mail = connection()
    try:
        return deliver(send=send, message=_message(send=send, rendered=rendered), mail=mail)
    finally:
        mail.close()
