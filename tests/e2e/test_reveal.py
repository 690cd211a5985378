"""Masked by default, revealed with a reason, and the reason in the access log: as support, a
super admin and a compliance officer meet it in the console."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.roles import COMPLIANCE_OFFICER, SUPER_ADMIN, SUPPORT_ADMIN
from channels_app.models import Message
from privacy.models import AdminAccessLog
from tests.e2e.conftest import screenshot
from tests.e2e.test_admin_console import log_in
from tests.factories import ConversationFactory, MessageFactory, StaffFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

WROTE = "Finance can be reached at +1 415 555 0142 or billing@acme.example about the budget."
REASON = "Ticket 5521: finance asked us to confirm their callback number"


@pytest.fixture
def conversation() -> Any:
    acme = TenantFactory(slug="acme", name="Acme")
    for username, role in (
        ("admin", SUPER_ADMIN),
        ("support", SUPPORT_ADMIN),
        ("compliance", COMPLIANCE_OFFICER),
    ):
        StaffFactory(tenant=acme, username=username, roles=[role])
    conversation = ConversationFactory(tenant=acme)
    MessageFactory(conversation=conversation, body=WROTE)
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        body="Noted: I will pass it on.",
    )
    return conversation


def test_support_reads_masked_an_admin_reveals_and_compliance_sees_the_reason(
    browser: Any, live_server: Any, conversation: Any
) -> None:
    base = live_server.url
    url = f"{base}/admin/channels_app/conversation/{conversation.pk}/change/"

    def session(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, base, username)
        return page

    support = session("support")
    support.goto(url)
    text = support.locator("body").inner_text()
    assert "+1-***-***-0142" in text and "b***@acme.example" in text
    assert "555 0142" not in text and "billing@" not in text
    assert support.locator("#reveal-form").count() == 0
    assert "Your role may not reveal them." in text
    screenshot(support, "reveal-support-masked")
    support.context.close()

    admin = session("admin")
    admin.goto(url)
    assert "555 0142" not in admin.locator("body").inner_text()  # masked by default
    admin.click("#reveal-button")  # the browser asks for a reason first: nothing is sent
    assert admin.url == url
    admin.fill("#reveal-form input[name=justification]", REASON)
    admin.click("#reveal-button")
    admin.wait_for_selector("#revealed-banner")
    revealed = admin.locator("#revealed-messages").inner_text()
    assert "+1 415 555 0142" in revealed and "billing@acme.example" in revealed
    screenshot(admin, "reveal-admin-revealed")
    # For that view only: back on the conversation, it is masked again.
    admin.click("#revealed-banner a")
    admin.wait_for_url(url)
    assert "555 0142" not in admin.locator("body").inner_text()
    admin.context.close()

    compliance = session("compliance")
    compliance.goto(f"{base}/admin/privacy/adminaccesslog/?action__exact=reveal_pii")
    rows = compliance.locator("#result_list tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "admin" in row and REASON in row and "revealed personal data" in row.lower()
    screenshot(compliance, "reveal-access-log")
    compliance.context.close()
    assert AdminAccessLog.objects.filter(action="reveal_pii", justification=REASON).count() == 1
