"""Telling people: approvers in the console and by email (the workflow says which), requesters on
their own channel through the registry.

Outside the SLA sweep each notice goes out on its own. Inside it (`approvers_digest`), the notices
of the whole sweep are gathered and each approver gets one console notification and one email
listing every approval that needs them: a sweep that finds 500 approvals an hour from their
deadline sends a manager one reminder, not 500."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from guardian.models import UserObjectPermission

from accounts.models import User
from hitl.models import (
    Approval,
    ApprovalHistory,
    Notification,
    NotificationChannel,
)
from hitl.registry import requester_notify
from privacy.masking import mask_text

logger = logging.getLogger(__name__)

SUBJECTS = {
    "created": "Approval needed: {title}",
    "level": "Approval needed (level {level}): {title}",
    "escalated": "Escalated to you: {title}",
    "reminder": "1 hour left to decide: {title}",
    "breached": "Overdue: {title}",
}
# How a digest names each kind of notice, most pressing first: an approval told twice in one
# sweep (overdue, then escalated past its last level) is listed once, under the first of these.
DIGEST_LABELS = {
    "escalated": "escalated to you",
    "breached": "overdue",
    "reminder": "due within the hour",
    "level": "new at your level",
    "created": "new",
}
DEFAULT_CHANNELS: list[str] = [NotificationChannel.EMAIL, NotificationChannel.IN_APP]


def approvers_of(approval: Approval) -> list[User]:
    """The people who may decide the approval now."""
    return approvers_by_approval([approval])[approval.pk]


def approvers_by_approval(approvals: Iterable[Approval]) -> dict[int, list[User]]:
    """`approvers_of` for many approvals in one query: approval id -> its deciders."""
    tenants = {approval.pk: approval.tenant_id for approval in approvals}
    if not tenants:
        return {}
    # Approvals have no direct permission table: guardian's generic one, granted to each
    # person (a level's approvers get their own grants; groups are not read).
    content_type = ContentType.objects.get_for_model(Approval)
    grants = UserObjectPermission.objects.filter(
        content_type=content_type,
        permission__content_type=content_type,
        permission__codename="decide_approval",
        object_pk__in=[str(pk) for pk in tenants],
    ).values_list("object_pk", "user_id")
    granted: dict[int, list[int]] = {pk: [] for pk in tenants}
    for object_pk, user_id in grants:
        granted[int(object_pk)].append(user_id)
    # Each person once, however many approvals they hold (a level's approvers hold them all).
    users = User.objects.filter(
        pk__in={user_id for ids in granted.values() for user_id in ids},
        is_active=True,
        is_deleted=False,
    ).in_bulk()
    return {
        pk: [
            users[user_id]
            for user_id in ids
            if user_id in users and users[user_id].tenant_id == tenants[pk]
        ]
        for pk, ids in granted.items()
    }


def approval_url(approval: Approval) -> str:
    path = reverse("admin:hitl_approval_change", args=[approval.pk])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def queue_url() -> str:
    path = reverse("admin:hitl_approval_changelist")
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}?awaiting=me"


def channels_of(approval: Approval) -> list[str]:
    return list(approval.workflow.notification_channels if approval.workflow else DEFAULT_CHANNELS)


@dataclass(frozen=True)
class Notice:
    """What approvers are told about one approval, taken when it happened: the emails go after
    the commit without reading the approval again."""

    approval_id: int
    kind: str
    subject: str
    body: str
    # Notifications and emails are read outside any reveal (an inbox, a phone's lock screen):
    # a title that quotes the person is masked, as conversation text is.
    title: str
    risk: str
    deadline: datetime | None
    channels: tuple[str, ...]
    url: str
    requested_by_agent: str
    estimated_cost: Decimal | None
    estimated_reach: int | None

    @classmethod
    def of(cls, approval: Approval, kind: str) -> Notice:
        title = mask_text(approval.title)
        risk = f"{approval.get_risk_level_display()} risk ({approval.risk_score}/100)"
        deadline = approval.sla_deadline
        return cls(
            approval_id=approval.pk,
            kind=kind,
            subject=SUBJECTS[kind].format(title=title, level=approval.current_level),
            body=f"{risk}. Decide by {deadline:%Y-%m-%d %H:%M} UTC." if deadline else f"{risk}.",
            title=title,
            risk=risk,
            deadline=deadline,
            channels=tuple(channels_of(approval)),
            url=approval_url(approval),
            requested_by_agent=approval.requested_by_agent,
            estimated_cost=approval.estimated_cost,
            estimated_reach=approval.estimated_reach,
        )


def approvers_notify(*, approval: Approval, kind: str, users: list[User] | None = None) -> int:
    """Notify the approvers (or `users`) of the approval's current level; the number told.
    Within `approvers_digest`, the console notification and the email wait for the digest."""
    recipients = approvers_of(approval) if users is None else users
    if not recipients:
        return 0
    notice = Notice.of(approval, kind)
    digest = _digest.get()
    if digest is not None:
        digest.add(notice, recipients)
    else:
        _notify_now(notice, recipients, tenant_id=approval.tenant_id)
    ApprovalHistory.objects.create(
        approval=approval,
        event=ApprovalHistory.Event.NOTIFIED,
        level=approval.current_level,
        data=notified_data(notice, recipients),
    )
    return len(recipients)


def notified_data(notice: Notice, recipients: list[User]) -> dict[str, object]:
    """The NOTIFIED history row's data."""
    return {"kind": notice.kind, "recipients": len(recipients), "channels": list(notice.channels)}


def _notify_now(notice: Notice, recipients: list[User], *, tenant_id: int) -> None:
    if NotificationChannel.IN_APP in notice.channels:
        Notification.objects.bulk_create(
            Notification(
                tenant_id=tenant_id,
                recipient=user,
                approval_id=notice.approval_id,
                title=notice.subject[:200],
                body=notice.body,
            )
            for user in recipients
        )
    if NotificationChannel.EMAIL in notice.channels:
        addressed = [user for user in recipients if user.email]
        if addressed:
            transaction.on_commit(
                lambda: _send([_notice_email(user, notice) for user in addressed])
            )


@dataclass
class _Entry:
    """One approval in one approver's digest, with every notice about it in the sweep."""

    notices: list[Notice]

    @cached_property
    def notice(self) -> Notice:
        """The most pressing: what the digest lists the approval under."""
        return min(self.notices, key=lambda notice: list(DIGEST_LABELS).index(notice.kind))

    @property
    def label(self) -> str:
        return DIGEST_LABELS[self.notice.kind]


@dataclass
class ApproverDigest:
    """The notices of one SLA sweep, per approver; `send` writes them as one console notification
    and one email each."""

    now: datetime
    _notices: list[tuple[Notice, list[User]]] = field(default_factory=list)

    def add(self, notice: Notice, recipients: list[User]) -> None:
        if recipients:
            self._notices.append((notice, list(recipients)))

    def mark(self) -> int:
        return len(self._notices)

    def forget_since(self, mark: int) -> None:
        """Drop what was added since `mark`: the savepoint that recorded it was rolled back."""
        del self._notices[mark:]

    def send(self, *, tenant_ids: dict[int, int]) -> int:
        """Inside the transaction that recorded the notices: the console notifications commit
        with it, the emails go after. `tenant_ids`: approval id -> tenant. The number told."""
        per_user: dict[int, tuple[User, dict[int, _Entry]]] = {}
        for notice, recipients in self._notices:
            for user in recipients:
                told = per_user.setdefault(user.pk, (user, {}))[1]
                told.setdefault(notice.approval_id, _Entry([])).notices.append(notice)
        notifications = []
        emails: list[tuple[User, list[_Entry]]] = []
        for user, by_approval in per_user.values():
            entries = sorted(by_approval.values(), key=self._urgency)
            in_app = [e for e in entries if NotificationChannel.IN_APP in e.notice.channels]
            if in_app:
                notifications.append(self._notification(user, in_app, tenant_ids))
            by_email = [e for e in entries if NotificationChannel.EMAIL in e.notice.channels]
            if by_email and user.email:
                emails.append((user, by_email))
        Notification.objects.bulk_create(notifications, batch_size=1000)
        if emails:
            lists: dict[tuple[int, ...], dict[str, str]] = {}
            transaction.on_commit(
                lambda: _send([self._email(user, listed, lists) for user, listed in emails])
            )
        return len(per_user)

    def _urgency(self, entry: _Entry) -> tuple[bool, datetime, int]:
        deadline = entry.notice.deadline
        return (deadline is None, deadline or self.now, entry.notice.approval_id)

    def time_left(self, deadline: datetime | None) -> str:
        if deadline is None:
            return "no deadline"
        seconds = (deadline - self.now).total_seconds()
        minutes = int(abs(seconds)) // 60
        span = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
        return f"{span} left" if seconds > 0 else f"overdue by {span}"

    def subject(self, entries: list[_Entry]) -> str:
        counts = Counter(entry.label for entry in entries)
        parts = ", ".join(
            f"{counts[label]} {label}" for label in DIGEST_LABELS.values() if label in counts
        )
        return f"{len(entries)} approvals need your decision: {parts}"

    def _notification(
        self, user: User, entries: list[_Entry], tenant_ids: dict[int, int]
    ) -> Notification:
        tenant_id = tenant_ids[entries[0].notice.approval_id]
        if len(entries) == 1:
            notice = entries[0].notice
            return Notification(
                tenant_id=tenant_id,
                recipient=user,
                approval_id=notice.approval_id,
                title=notice.subject[:200],
                body=notice.body,
            )
        # No titles in the stored digest: erasing a requester scrubs the notifications tied to
        # their approval, and a digest is tied to none. The email, which we do not keep, has them.
        lines = [
            f"Approval #{e.notice.approval_id}: {e.label}, {e.notice.risk}, "
            f"{self.time_left(e.notice.deadline)}."
            for e in entries
        ]
        return Notification(
            tenant_id=tenant_id,
            recipient=user,
            approval=None,
            title=self.subject(entries)[:200],
            body="\n".join(lines),
        )

    def _email(
        self, user: User, entries: list[_Entry], lists: dict[tuple[int, ...], dict[str, str]]
    ) -> EmailMultiAlternatives:
        if len(entries) == 1:
            return _notice_email(user, entries[0].notice)
        # The list is rendered once per distinct list: a level's approvers share theirs, and a
        # long one costs more to render than everything else the sweep does.
        key = tuple(e.notice.approval_id for e in entries)
        if key not in lists:
            items = {"items": [self._item(e) for e in entries]}
            lists[key] = {
                "items_text": render_to_string("emails/hitl_digest_items.txt", items).strip(),
                "items_html": render_to_string("emails/hitl_digest_items.html", items),
            }
        context = {"user": user, "count": len(entries), "queue_url": queue_url(), **lists[key]}
        message = EmailMultiAlternatives(
            subject=self.subject(entries),
            body=render_to_string("emails/hitl_digest.txt", context),
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string("emails/hitl_digest.html", context), "text/html"
        )
        return message

    def _item(self, entry: _Entry) -> dict[str, str]:
        notice = entry.notice
        return {
            "label": entry.label,
            "title": notice.title,
            "risk": notice.risk,
            "time_left": self.time_left(notice.deadline),
            # Formatted here: the template's date filter costs more than the rest of an item.
            "deadline": f"{notice.deadline:%Y-%m-%d %H:%M} UTC" if notice.deadline else "",
            "url": notice.url,
        }


_digest: ContextVar[ApproverDigest | None] = ContextVar("hitl_approver_digest", default=None)


@contextmanager
def approvers_digest(*, now: datetime) -> Iterator[ApproverDigest]:
    """Gather every approver notice made inside (the SLA sweep's) for one digest each."""
    digest = ApproverDigest(now=now)
    token = _digest.set(digest)
    try:
        yield digest
    finally:
        _digest.reset(token)


def _notice_email(user: User, notice: Notice) -> EmailMultiAlternatives:
    context = {
        "approval": notice,
        "title": notice.title,
        "body": notice.body,
        "url": notice.url,
        "user": user,
    }
    message = EmailMultiAlternatives(
        subject=notice.subject,
        body=render_to_string("emails/hitl_approval.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/hitl_approval.html", context), "text/html")
    return message


def _send(messages: list[EmailMultiAlternatives]) -> None:
    try:
        get_connection().send_messages(messages)
    except Exception:
        # A mail outage must not undo a decision: the console notification is already there.
        logger.exception("approver email failed (%d messages)", len(messages))


def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def outcome_text(approval: Approval) -> str:
    # action_type has no choices, so no get_action_type_display(): named as approval_request()
    # names an untitled request.
    what = approval.title or approval.action_type.replace("_", " ").capitalize()
    if approval.is_held_reply:
        return "A teammate reviewed my last answer and will follow up with you here."
    if approval.status == Approval.Status.REJECTED:
        return f'Your request "{what}" was not approved: {approval.reason}'
    if approval.status == Approval.Status.CHANGES_REQUESTED:
        return f'Your request "{what}" needs changes: {approval.reason}'
    if approval.status == Approval.Status.EXPIRED:
        return f'Your request "{what}" expired before anyone decided it.'
    if approval.execution_status == Approval.Execution.FAILED:
        return f'Your request "{what}" was approved, but it could not be done: ' + str(
            approval.execution_result.get("error", "")
        )
    return f'Done: "{what}" was approved and carried out.'


def requester_tell(approval: Approval) -> None:
    told = requester_notify(approval, outcome_text(approval))
    ApprovalHistory.objects.create(
        approval=approval,
        event=ApprovalHistory.Event.REQUESTER_TOLD,
        data={"delivered": told, "status": approval.status},
    )
