"""Human takeover over WhatsApp, in the console as a person uses it: signed webhooks into the
app, a real worker, the fake Twilio, and the conversation page in Chromium on a real daphne
(its live view over the console socket). The bot is silent and drafts nothing while a human has
the conversation, the human's reply goes out as theirs, and after hand-back the bot answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from accounts.models import User
from accounts.roles import SUPPORT_ADMIN
from agents.models import AgentRun
from channels_app.models import Conversation, Message, TurnState
from hitl.models import Approval
from tests.channels_app.chat.servers import Daphne
from tests.channels_app.fake_twilio import FakeTwilio
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.e2e.test_admin_console import log_in
from tests.factories import StaffFactory
from tests.integration.fixtures import PUBLIC, WEBHOOK, inbound, sign, twilio_settings
from tests.integration.worker import wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def console_site(live: Any, twilio: FakeTwilio, request: pytest.FixtureRequest) -> Iterator[str]:
    """The console on daphne, wired as the worker is (the same Twilio, database and Redis)."""
    daphne = Daphne(
        worker_env(**twilio_settings(twilio)),
        ARTIFACTS / f"takeover-daphne-{request.node.name}.log",
    )
    try:
        daphne.start()
        yield daphne.url
    finally:
        daphne.stop()


def to_maya(twilio: FakeTwilio) -> list[str]:
    return [m.get("Body", "") for m in twilio.messages if m.get("To") == "whatsapp:+14155550101"]


def say(site: str, text: str, n: int) -> Message:
    """Maya writes: Twilio's signed webhook, to daphne (whose live view then pushes it)."""
    sid = f"SM{n:032d}"
    params = inbound(text, sid=sid)
    answer = requests.post(
        f"{site}{WEBHOOK}",
        data=params,
        headers={"X-Twilio-Signature": sign(PUBLIC + WEBHOOK, params)},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return Message.objects.get(provider_id=sid)


def test_a_human_takes_over_replies_and_hands_back_on_whatsapp(
    page: Any, console_site: str, maya: User, twilio: FakeTwilio
) -> None:
    say(console_site, "What is my ROAS this month?", 1)
    assert wait_for(lambda: to_maya(twilio), timeout=45)  # the bot answers
    conversation = Conversation.objects.get(user=maya)
    StaffFactory(tenant=maya.tenant, username="alex", first_name="Alex", roles=[SUPPORT_ADMIN])

    log_in(page, console_site, "alex")
    page.goto(f"{console_site}/admin/channels_app/conversation/{conversation.pk}/change/")
    expect(page.locator("#takeover-control")).to_contain_text("The agent answers")
    page.click("#takeover-button")
    expect(page.locator("#takeover-control")).to_contain_text("Alex has this conversation.")
    # The page after the redirect has its live socket open before Maya writes again.
    expect(page.locator("body[data-live=on]")).to_be_attached()
    assert wait_for(lambda: "Alex from the team has joined the conversation." in to_maya(twilio))
    runs, approvals, sent = AgentRun.objects.count(), Approval.objects.count(), len(to_maya(twilio))

    # The bot is quiet, even when asked for a human and a budget change; the message arrives
    # in the open thread without a reload.
    asked = say(console_site, "Can a human raise my Meta budget by $500?", 2)
    expect(
        page.locator("#thread .thread-message.live", has_text="raise my Meta budget")
    ).to_be_visible(timeout=15_000)
    assert wait_for(lambda: Message.objects.get(pk=asked.pk).turn_state == TurnState.SKIPPED)

    page.fill("#human-reply-form textarea", "Hi Maya, Alex here. I'll look at it now.")
    page.click("#human-reply-button")
    assert wait_for(lambda: "Hi Maya, Alex here. I'll look at it now." in to_maya(twilio))
    expect(page.locator("#thread .thread-message", has_text="Alex here").first).to_contain_text(
        "Alex (team)"
    )
    human = Message.objects.get(conversation=conversation, sender_kind=Message.SenderKind.HUMAN)
    assert human.metadata["operator_name"] == "Alex" and human.provider_id
    assert AgentRun.objects.count() == runs and Approval.objects.count() == approvals
    assert len(to_maya(twilio)) == sent + 1  # only the human's reply went out
    screenshot(page, "takeover-whatsapp-console")

    page.click("#handback-button")
    expect(page.locator("#takeover-control")).to_contain_text("The agent answers")
    assert wait_for(lambda: [b for b in to_maya(twilio) if b.startswith("You're back with")])
    say(console_site, "What is my ROAS this month?", 3)
    answer = wait_for(
        lambda: Message.objects.filter(
            reply_to__provider_id=f"SM{3:032d}", sender_kind=Message.SenderKind.AGENT
        ).first(),
        timeout=45,
    )
    assert answer is not None and "ROAS" in answer.body
    assert AgentRun.objects.count() > runs
