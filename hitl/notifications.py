"""Telling people: approvers in the console and by email (the workflow says which), requesters on
their own channel through the registry."""

from __future__ import annotations

import logging
from typing import cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import get_users_with_perms

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


def approvers_of(approval: Approval) -> list[User]:
    """The people who may decide the approval now."""
    # Without attach_perms, guardian answers a queryset of users (its annotation says less).
    users = cast(
        "QuerySet[User]",
        get_users_with_perms(
            approval, only_with_perms_in=["decide_approval"], with_group_users=False
        ),
    )
    return list(users.filter(is_active=True, is_deleted=False, tenant_id=approval.tenant_id))


def approval_url(approval: Approval) -> str:
    path = reverse("admin:hitl_approval_change", args=[approval.pk])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def approvers_notify(*, approval: Approval, kind: str, users: list[User] | None = None) -> int:
    """Notify the approvers (or `users`) of the approval's current level; the number told."""
    recipients = approvers_of(approval) if users is None else users
    if not recipients:
        return 0
    channels = (
        approval.workflow.notification_channels
        if approval.workflow
        else [NotificationChannel.EMAIL, NotificationChannel.IN_APP]
    )
    # Notifications and emails are read outside any reveal (an inbox, a phone's lock screen):
    # a title that quotes the person is masked, as conversation text is.
    title = SUBJECTS[kind].format(title=mask_text(approval.title), level=approval.current_level)
    body = (
        f"{approval.get_risk_level_display()} risk ({approval.risk_score}/100). "
        f"Decide by {approval.sla_deadline:%Y-%m-%d %H:%M} UTC."
        if approval.sla_deadline
        else f"{approval.get_risk_level_display()} risk ({approval.risk_score}/100)."
    )
    if NotificationChannel.IN_APP in channels:
        Notification.objects.bulk_create(
            Notification(
                tenant_id=approval.tenant_id,
                recipient=user,
                approval=approval,
                title=title,
                body=body,
            )
            for user in recipients
        )
    if NotificationChannel.EMAIL in channels:
        addressed = [user for user in recipients if user.email]
        if addressed:
            approval_id = approval.pk
            transaction.on_commit(
                lambda: _email(approval_id, title, body, [user.pk for user in addressed])
            )
    ApprovalHistory.objects.create(
        approval=approval,
        event=ApprovalHistory.Event.NOTIFIED,
        level=approval.current_level,
        data={"kind": kind, "recipients": len(recipients), "channels": channels},
    )
    return len(recipients)


def _email(approval_id: int, subject: str, body: str, user_ids: list[int]) -> None:
    approval = Approval.objects.get(pk=approval_id)
    context = {
        "approval": approval,
        "title": mask_text(approval.title),
        "body": body,
        "url": approval_url(approval),
    }
    messages = []
    for user in User.objects.filter(pk__in=user_ids):
        context["user"] = user
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("emails/hitl_approval.txt", context),
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string("emails/hitl_approval.html", context), "text/html"
        )
        messages.append(message)
    try:
        get_connection().send_messages(messages)
    except Exception:
        # A mail outage must not undo a decision: the console notification is already there.
        logger.exception("approval %s: approver email failed", approval_id)


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
