"""Redis (cache, channel layer and broker) stops while Twilio posts: every message is still taken
(200) and stored, and once Redis is back each is answered, once. A Redis of the test's own: the
suite's keeps running."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from accounts.models import User
from channels_app.models import Message, TurnState
from tests.channels_app.fake_twilio import FakeTwilio
from tests.fault.stack import PrivateRedis, running_stack, sweeping_until
from tests.integration.fixtures import inbound, twilio_settings
from tests.integration.test_whatsapp_end_to_end import plain_question
from tests.integration.worker import broker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

DURING_OUTAGE = 8


def answered(message: Message) -> list[Message]:
    return list(Message.objects.filter(reply_to=message, sender_kind=Message.SenderKind.AGENT))


def test_webhooks_taken_while_redis_is_down_are_answered_once_it_returns(
    wired: None, maya: User, twilio: FakeTwilio, tmp_path: Path
) -> None:
    redis = PrivateRedis(tmp_path).start()
    env = worker_env(
        **twilio_settings(twilio),
        REDIS_URL=redis.url(0),
        CELERY_BROKER_URL=redis.url(1),
        # The sweep (beat's job, published by this test) picks up what was not enqueued.
        TURN_SWEEP_AFTER_SECONDS="1",
    )
    question = plain_question(maya)
    try:
        with running_stack(env, "redis-outage") as (_, (worker,), sender), broker(redis.url(1)):
            session = requests.Session()
            first = sender.post(session, inbound(question, sid="SM" + "a0" * 16))
            assert first.status == 200, first
            assert wait_for(lambda: len(twilio.messages) == 1, timeout=30), "Redis up, no answer"
            # Redis stops while the worker waits for work. (Stopped while a task is unacked,
            # kombu 5.7's reconnection dies on an AttributeError and takes the worker with it:
            # only a supervisor's restart, as docker-compose's, brings it back.)
            assert wait_for(lambda: b"succeeded in" in worker.log.read_bytes(), timeout=30)
            time.sleep(0.5)  # the ack follows the log line

            redis.kill()
            during = [
                sender.post(session, inbound(question, sid=f"SM{n:032x}"))
                for n in range(DURING_OUTAGE)
            ]
            # Taken and stored, and in bounded time: a dead Redis costs a refused connection.
            assert [posted.status for posted in during] == [200] * DURING_OUTAGE, during
            assert max(posted.seconds for posted in during) < 10, during
            stored = Message.objects.filter(provider_id__in=[p.sid for p in during])
            assert stored.count() == DURING_OUTAGE
            assert {m.turn_state for m in stored} == {TurnState.PENDING}
            assert len(twilio.messages) == 1

            redis.start()
            after = sender.post(session, inbound(question, sid="SM" + "a1" * 16))
            assert after.status == 200, after
            total = 1 + DURING_OUTAGE + 1
            assert sweeping_until(lambda: len(twilio.messages) >= total, timeout=90), (
                f"{len(twilio.messages)} of {total} answered"
            )
            # Nothing answered twice, even with the sweep and the direct enqueue both at work.
            wait_for(lambda: len(twilio.messages) > total, timeout=3)
            assert len(twilio.messages) == total
        for message in Message.objects.filter(direction=Message.Direction.INBOUND):
            replies = answered(message)
            assert len(replies) == 1, message.provider_id
            assert replies[0].provider_id in {sent.sid for sent in twilio.messages}
            assert message.turn_state == TurnState.DONE
    finally:
        redis.kill()
