"""SIGKILL the worker while an agent is thinking: after a restart the message is answered, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from accounts.models import User
from agents.models import AgentInstance, AgentRun
from channels_app.models import Message, TurnState
from channels_app.tasks import process_turn_task, sweep_turns_task
from tests.agents.fake_langflow import FakeLangflow, FakeResponse, run_response
from tests.channels_app.fake_twilio import FakeTwilio
from tests.integration.fixtures import WEBHOOK, inbound, post_signed, twilio_settings
from tests.integration.worker import Worker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def langflow() -> Iterator[FakeLangflow]:
    with FakeLangflow(api_key="sk-fault") as fake:
        yield fake


def test_answered_exactly_once_after_sigkill(
    wired: None, maya: User, twilio: FakeTwilio, langflow: FakeLangflow
) -> None:
    AgentInstance.objects.filter(
        tenant=maya.tenant, agent__agent_type="paid_ads_optimization"
    ).update(backend="langflow", flow_id="ads-flow")
    # The first run stalls long enough to be killed in; the second answers at once.
    langflow.script(
        FakeResponse(delay=30),
        FakeResponse(body=run_response('{"text": "Meta spend is up.", "confidence": 0.9}')),
    )
    env = worker_env(
        **twilio_settings(twilio),
        LANGFLOW_API_URL=langflow.url,
        LANGFLOW_API_KEY="sk-fault",
        LANGFLOW_TIMEOUT_SECONDS="60",
    )
    settings = {"LANGFLOW_API_URL": langflow.url, "LANGFLOW_API_KEY": "sk-fault"}
    first = Worker(env, ARTIFACTS / "fault-worker-1.log")
    second = Worker(env, ARTIFACTS / "fault-worker-2.log")
    # The module's shared worker is never started here: only ours consume the queue.
    with override_settings(**settings):
        try:
            first.start()
            post_signed(Client(), WEBHOOK, inbound("How is Meta doing?", sid="SM" + "f" * 32))
            message = Message.objects.get(provider_id="SM" + "f" * 32)
            assert wait_for(lambda: len(langflow.requests) == 1, timeout=30)
            first.kill()  # mid-turn: the agent is running, nothing is sent yet
            message.refresh_from_db()
            assert message.turn_state == TurnState.CLAIMED
            assert not twilio.messages

            second.start()
            # The claim's lease (3 s here) runs out; the periodic sweep hands the turn on.
            assert wait_for(lambda: sweep_turns_task.apply().get() >= 1, timeout=15, interval=1)
            sent = wait_for(lambda: twilio.messages, timeout=30)
            assert len(sent) == 1 and "Meta spend is up." in sent[0]["Body"]
            assert wait_for(lambda: Message.objects.get(pk=message.pk).turn_state == TurnState.DONE)
            # A late redelivery of the killed task (acks_late) changes nothing.
            process_turn_task.delay(message.pk)
            wait_for(lambda: len(twilio.messages) > 1, timeout=4)
            assert len(twilio.messages) == 1
            assert Message.objects.filter(reply_to=message, sender_kind="agent").count() == 1
            assert AgentRun.objects.filter(conversation_id=message.conversation_id).count() == 1
        finally:
            first.kill()
            second.stop()
