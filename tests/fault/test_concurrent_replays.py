"""1,000 webhooks, each delivered two or three times and the copies at the same moment, as Twilio
does when it retries a slow answer: each message is stored once and answered once."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.models import User
from accounts.services import phone_number_add
from agents.models import AgentInstance
from channels_app.models import Message
from tests.agents.fake_langflow import FakeLangflow
from tests.channels_app.fake_twilio import FakeTwilio
from tests.factories import UserFactory
from tests.fault.stack import Posted, running_stack
from tests.integration.fixtures import inbound, twilio_settings
from tests.integration.test_whatsapp_end_to_end import plain_question
from tests.integration.worker import wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 1000
SENDERS = 10  # conversations: the turns of one run in order, so two workers need several


@pytest.fixture
def langflow() -> Iterator[FakeLangflow]:
    with FakeLangflow(api_key="sk-replays") as fake:
        yield fake


def test_thousand_webhooks_replayed_concurrently_store_and_answer_each_once(
    wired: None, maya: User, twilio: FakeTwilio, langflow: FakeLangflow
) -> None:
    # The agents answer through Langflow (a local fake that echoes at once): what is measured is
    # the way in and the way out, and a thousand built-in answers would not fit the test's time.
    AgentInstance.objects.filter(tenant=maya.tenant).update(backend="langflow", flow_id="flow")
    numbers = [f"+1415555{1000 + n:04d}" for n in range(SENDERS)]
    for n, number in enumerate(numbers):
        user = UserFactory(tenant=maya.tenant, username=f"sender{n}")
        phone_number_add(user=user, number=number, verified=True, primary=True)
    question = plain_question(maya)
    forms = [
        inbound(question, sid=f"SM{n:032x}", sender=numbers[n % SENDERS]) for n in range(MESSAGES)
    ]
    # Both copies of a message side by side, so that 32 threads post them at the same moment;
    # every tenth message once more, later, as a retry that comes after the first answer.
    posts = [form for form in forms for _ in range(2)]
    rng = random.Random(16)
    for form in forms[::10]:
        posts.insert(rng.randrange(len(posts)), form)

    env = worker_env(
        **twilio_settings(twilio), LANGFLOW_API_URL=langflow.url, LANGFLOW_API_KEY="sk-replays"
    )
    # Two workers on one broker, as production scales out: they race for the same turns.
    with running_stack(env, "replays", workers=2) as (_, _, sender):
        local = threading.local()

        def post(form: dict[str, str]) -> Posted:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return sender.post(local.session, form)

        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(post, posts))

        statuses = Counter(result.status for result in results)
        assert statuses == {200: len(posts)}, [r for r in results if r.status != 200][:3]
        inbound_sids = Message.objects.filter(direction=Message.Direction.INBOUND).values_list(
            "provider_id", flat=True
        )
        assert Counter(Counter(inbound_sids).values()) == {1: MESSAGES}
        assert set(inbound_sids) == {form["MessageSid"] for form in forms}

        assert wait_for(lambda: len(twilio.messages) >= MESSAGES, timeout=240, interval=0.5), (
            f"{len(twilio.messages)} replies sent of {MESSAGES}"
        )
        # A duplicate turn would show up a moment later.
        wait_for(lambda: len(twilio.messages) > MESSAGES, timeout=3)
        sent_sids = [sent.sid for sent in twilio.messages]
        assert len(sent_sids) == MESSAGES
        replies = Message.objects.filter(
            direction=Message.Direction.OUTBOUND, reply_to__isnull=False
        ).values_list("reply_to_id", "provider_id")
        assert len(replies) == MESSAGES
        assert len({reply_to for reply_to, _ in replies}) == MESSAGES
        assert {provider_id for _, provider_id in replies} == set(sent_sids)
        sent_to = Counter(sent.to for sent in twilio.messages)
        assert sent_to == {f"whatsapp:{number}": MESSAGES // SENDERS for number in numbers}
