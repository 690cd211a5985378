"""Every role against every surface that shows a person's data to staff: conversation text,
held replies and approval titles are masked for every role until someone reveals them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail

from hitl.models import Notification
from tests.planted import ROLES, Planted, leaked

Surface = Callable[[Planted], str]

SURFACES: dict[str, Surface] = {
    "admin conversation page": lambda p: (
        f"/admin/channels_app/conversation/{p.conversation.pk}/change/"
    ),
    "admin conversation list": lambda p: "/admin/channels_app/conversation/",
    "admin held-reply approval": lambda p: f"/admin/hitl/approval/{p.held_approval.pk}/change/",
    "admin titled approval": lambda p: f"/admin/hitl/approval/{p.titled_approval.pk}/change/",
    "admin approval queue": lambda p: "/admin/hitl/approval/",
    "admin notifications": lambda p: "/admin/hitl/notification/",
    "hitl API detail (held reply)": lambda p: f"/api/v1/admin/hitl/{p.held_approval.pk}",
    "hitl API detail (titled)": lambda p: f"/api/v1/admin/hitl/{p.titled_approval.pk}",
    "hitl API queue": lambda p: "/api/v1/admin/hitl/queue",
    "WhatsApp conversations API": lambda p: (
        f"/api/v1/channels/whatsapp/conversations/{p.person.pk}"
    ),
    "console conversation API": lambda p: f"/api/v1/admin/conversations/{p.conversation.pk}",
}

CONSOLE = {"owner", "support", "compliance", "readonly"}
APPROVERS = {"owner", "support", "compliance", "readonly", "manager", "director", "cfo"}
# Who must get the page (so that a clean page means "masked", not "refused").
SERVED = {
    "admin conversation page": CONSOLE,
    "admin conversation list": CONSOLE,
    "admin held-reply approval": APPROVERS,
    "admin titled approval": APPROVERS,
    "admin approval queue": APPROVERS,
    "hitl API detail (held reply)": APPROVERS,
    "hitl API detail (titled)": APPROVERS,
    "hitl API queue": APPROVERS,
    "WhatsApp conversations API": CONSOLE,
    "console conversation API": CONSOLE,
}


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_no_role_reads_planted_personal_data_without_a_reveal(
    planted: Planted, role: str, surface: str
) -> None:
    response = planted.client(role).get(SURFACES[surface](planted))
    if role in SERVED.get(surface, set()):
        assert response.status_code == 200, (role, surface, response.status_code)
    text = response.content.decode()
    assert leaked(text) == [], (role, surface)


def test_the_planted_values_are_there_to_be_found(planted: Planted) -> None:
    """The needles are right: the revealed view as a super admin shows every one of them."""
    response = planted.client("owner").post(
        f"/api/v1/admin/conversations/{planted.conversation.pk}/reveal",
        {"justification": "Ticket 4411: the customer asked for a call back"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert sorted(leaked(response.content.decode())) == sorted(
        ["phone", "email", "card", "api_key", "address"]
    )


def test_approver_notifications_and_emails_carry_no_personal_data(planted: Planted) -> None:
    notifications = list(Notification.objects.filter(approval__tenant=planted.tenant))
    assert notifications, "the approvers were told"
    for notification in notifications:
        assert leaked(f"{notification.title} {notification.body}") == []
    assert mail.outbox, "the approvers were emailed"
    for message in mail.outbox:
        html = "".join(str(part) for part, _ in getattr(message, "alternatives", []))
        assert leaked(f"{message.subject} {message.body} {html}") == [], message.subject
