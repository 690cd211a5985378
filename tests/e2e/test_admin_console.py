from __future__ import annotations

from typing import Any

import pytest

from accounts.roles import SUPER_ADMIN, SUPPORT_ADMIN
from accounts.services import phone_number_add
from channels_app.models import Message
from tests.e2e.conftest import screenshot
from tests.factories import (
    PASSWORD,
    ConversationFactory,
    MessageFactory,
    StaffFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme() -> dict[str, Any]:
    acme, globex = TenantFactory(slug="acme", name="Acme"), TenantFactory(slug="globex")
    maya = UserFactory(tenant=acme, username="maya", email="maya@acme.example")
    phone_number_add(user=maya, number="+14155550101", verified=True, primary=True)
    conversation = ConversationFactory(tenant=acme, user=maya)
    MessageFactory(conversation=conversation, body="How is my Meta campaign performing?")
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        body="Spend $412 yesterday at a ROAS of 3.1, up from 2.7 last week.",
    )
    hidden = ConversationFactory(tenant=globex)
    MessageFactory(conversation=hidden, body="Globex secret plan")
    return {
        "admin": StaffFactory(tenant=acme, username="admin", roles=[SUPER_ADMIN]),
        "support": StaffFactory(tenant=acme, username="support", roles=[SUPPORT_ADMIN]),
        "maya": maya,
        "conversation": conversation,
    }


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_admin_logs_in_and_opens_a_conversation(page: Any, live_server: Any, acme: Any) -> None:
    base = live_server.url
    log_in(page, base, "admin")

    page.goto(f"{base}/admin/channels_app/conversation/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1  # acme's conversation; globex's is not listed
    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/admin/channels_app/conversation/{acme['conversation'].pk}/change/")

    body = page.locator("body").inner_text()
    assert "How is my Meta campaign performing?" in body
    assert "ROAS of 3.1" in body
    assert "Globex secret plan" not in body
    screenshot(page, "admin-conversation")


def test_support_sees_phone_numbers_masked(page: Any, live_server: Any, acme: Any) -> None:
    base = live_server.url
    log_in(page, base, "support")
    page.goto(f"{base}/admin/accounts/user/{acme['maya'].pk}/change/")
    text = page.locator("body").inner_text()
    assert "+1-***-***-0101" in text
    assert "m***@acme.example" in text
    assert "4155550101" not in text and "maya@acme.example" not in text
    screenshot(page, "support-user-masked")


def test_admin_sees_phone_numbers_in_full(page: Any, live_server: Any, acme: Any) -> None:
    base = live_server.url
    log_in(page, base, "admin")
    page.goto(f"{base}/admin/accounts/userphonenumber/")
    assert "+14155550101" in page.locator("#result_list").inner_text()


def test_support_finds_a_word_and_a_number_then_reads_the_thread(
    page: Any, live_server: Any, acme: Any
) -> None:
    from channels_app.outbound import message_store
    from hitl.models import HELD_REPLY, HoldReason
    from hitl.services import approval_request

    conversation = acme["conversation"]
    message_store(
        conversation=conversation,
        sender_kind="user",
        body="Our win-back flow lost budget; call Leo on +1 (415) 555-0102",
    )
    held = message_store(
        conversation=conversation,
        sender_kind="agent",
        body="I'd pause the win-back flow until Monday.",
        delivery_status=Message.DeliveryStatus.HELD,
        confidence=0.41,
    )
    approval = approval_request(
        tenant=conversation.tenant,
        action_type=HELD_REPLY,
        title="Held reply: low confidence",
        hold_reasons=[HoldReason.LOW_CONFIDENCE],
        conversation=conversation,
        message=held,
        auto_approve=False,
    )
    base = live_server.url
    log_in(page, base, "support")
    for term in ("win-back", "+14155550102"):
        page.goto(f"{base}/admin/channels_app/conversation/")
        page.fill("#searchbar", term)
        page.keyboard.press("Enter")
        page.wait_for_url("**q=*")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1, term
        assert "555-0102" not in rows.first.inner_text()  # the preview is masked
    screenshot(page, "console-search")
    rows.first.locator("a").first.click()
    thread = page.locator("#thread")
    held_row = thread.locator(f'.thread-message[data-id="{held.pk}"]')
    assert "Held for approval" in held_row.inner_text()
    held_row.locator(".thread-approval").click()
    page.wait_for_url(f"**/admin/hitl/approval/{approval.pk}/change/")
    page.click("#approval-conversation")
    page.wait_for_url(f"**/admin/channels_app/conversation/{conversation.pk}/change/")
    screenshot(page, "console-thread")
