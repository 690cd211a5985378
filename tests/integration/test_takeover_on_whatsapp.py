"""Human takeover over WhatsApp, through the whole path (signed webhook, a real worker, the
fake Twilio, the console's buttons): the bot is silent and drafts nothing while a human has the
conversation, the human's reply goes out as theirs, and after hand-back the bot answers again."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.roles import SUPPORT_ADMIN
from agents.models import AgentRun
from channels_app.models import Conversation, Message, TurnState
from hitl.models import Approval
from tests.channels_app.fake_twilio import FakeTwilio
from tests.factories import StaffFactory
from tests.integration.fixtures import WEBHOOK, inbound, post_signed
from tests.integration.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def bodies(twilio: FakeTwilio) -> list[str]:
    return [m.get("Body", "") for m in twilio.messages if m.get("To") == "whatsapp:+14155550101"]


def say(text: str, n: int) -> None:
    post_signed(Client(), WEBHOOK, inbound(text, sid=f"SM{n:032d}"))


def test_takeover_silences_the_bot_and_handback_brings_it_back(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    say("What is my ROAS this month?", 1)
    wait_for(lambda: bodies(twilio))
    conversation = Conversation.objects.get(user=maya)
    alex = StaffFactory(
        tenant=maya.tenant, username="alex", first_name="Alex", roles=[SUPPORT_ADMIN]
    )
    console = Client()
    console.force_login(alex)
    base = f"/admin/channels_app/conversation/{conversation.pk}"

    console.post(f"{base}/takeover/")
    joined = wait_for(lambda: [b for b in bodies(twilio) if "has joined" in b])
    assert joined == ["Alex from the team has joined the conversation."]
    runs, approvals, sent = AgentRun.objects.count(), Approval.objects.count(), len(bodies(twilio))

    # The bot is quiet: even a request for a human and a budget change draft nothing.
    say("Can a human raise my Meta budget by $500?", 2)
    message = wait_for(lambda: Message.objects.filter(provider_id=f"SM{2:032d}").first())
    assert message.turn_state == TurnState.SKIPPED
    page = console.get(f"{base}/change/").content.decode()
    assert "Alex has this conversation." in page and "raise my Meta budget" in page

    console.post(f"{base}/reply/", {"message": "Hi Maya, Alex here. I'll look at it now."})
    wait_for(lambda: [b for b in bodies(twilio) if b.startswith("Hi Maya, Alex here")])
    human = Message.objects.get(sender_kind=Message.SenderKind.HUMAN)
    assert human.metadata["operator_name"] == "Alex" and human.agent_type == ""
    assert human.provider_id  # it went out through Twilio
    assert AgentRun.objects.count() == runs and Approval.objects.count() == approvals
    assert len(bodies(twilio)) == sent + 1  # only the human's reply

    console.post(f"{base}/handback/")
    wait_for(lambda: [b for b in bodies(twilio) if b.startswith("You're back with")])
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE

    say("What is my ROAS this month?", 3)
    wait_for(lambda: AgentRun.objects.count() > runs)
    answer = wait_for(
        lambda: Message.objects.filter(
            reply_to__provider_id=f"SM{3:032d}", sender_kind=Message.SenderKind.AGENT
        ).first()
    )
    assert answer is not None and "ROAS" in answer.body


def test_the_consoles_manual_send_goes_out_as_the_person_who_wrote_it(
    live: object, maya: User, twilio: FakeTwilio
) -> None:
    say("Hi there", 20)  # opens the 24-hour window
    wait_for(lambda: bodies(twilio))
    alex = StaffFactory(
        tenant=maya.tenant, username="alex", first_name="Alex", roles=[SUPPORT_ADMIN]
    )
    console = Client()
    console.force_login(alex)
    assert "send-whatsapp-link" in console.get("/admin/channels_app/conversation/").content.decode()
    response = console.post(
        "/admin/channels_app/conversation/send-whatsapp/",
        {"to": "+14155550101", "message": "Alex from Acme: your invoice is ready."},
    )
    assert response.status_code == 302
    wait_for(lambda: [b for b in bodies(twilio) if b.startswith("Alex from Acme")])
    sent = Message.objects.get(sender_kind=Message.SenderKind.HUMAN)
    assert sent.metadata["operator_name"] == "Alex" and sent.provider_id
    refused = console.post(
        "/admin/channels_app/conversation/send-whatsapp/",
        {"to": "+19999999999", "message": "hello"},
        follow=True,
    )
    assert "No such person in your workspace." in refused.content.decode()
    readonly = Client()
    readonly.force_login(StaffFactory(tenant=maya.tenant, roles=["read_only_admin"]))
    assert readonly.get("/admin/channels_app/conversation/send-whatsapp/").status_code == 403
