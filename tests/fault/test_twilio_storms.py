"""Twilio answering 5xx, then storms of 429: each reply is retried as the policy says (5xx after
1, 2, 4 times the backoff, 429 after its Retry-After, 4 attempts in all, other 4xx never),
goes out once or ends failed with Twilio's reason, and is never sent twice, while two workers
and the periodic sweep run beside the sender."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
import requests

from accounts.models import User
from accounts.services import phone_number_add
from channels_app.models import Message, TurnState
from tests.channels_app.fake_twilio import FakeResponse, FakeTwilio, twilio_error
from tests.factories import UserFactory
from tests.fault.stack import running_stack, sweeping_until
from tests.integration.fixtures import ACCOUNT_SID, STATUS, inbound, twilio_settings
from tests.integration.test_whatsapp_end_to_end import plain_question
from tests.integration.worker import worker_env

pytestmark = pytest.mark.django_db(transaction=True)

BACKOFF = 0.2  # TWILIO_RETRY_BACKOFF_SECONDS: 5xx waits 0.2, 0.4, 0.8 s
RETRY_AFTER = 1.0
LONG_RETRY_AFTER = 2.0
ATTEMPTS = 4  # the first and 3 retries
# A sleep never ends early; this only absorbs the clocks' granularity.
SLACK = 0.02


def server_error(status: int) -> FakeResponse:
    return twilio_error(status)


def too_many(retry_after: float = RETRY_AFTER) -> FakeResponse:
    return twilio_error(
        429, 20429, "Too Many Requests", headers={"Retry-After": f"{retry_after:g}"}
    )


@dataclass(frozen=True)
class Storm:
    """What Twilio answers one person's reply, and what the policy must make of it."""

    answers: tuple[FakeResponse, ...]
    waits: tuple[float, ...]  # the least time between consecutive attempts
    outcome: str  # "sent", or the error code the reply is marked failed with

    @property
    def attempts(self) -> int:
        return len(self.answers) + (1 if self.outcome == "sent" else 0)


STORMS = {
    "5xx then sent": Storm(
        (server_error(500), server_error(502), server_error(503)),
        (BACKOFF, 2 * BACKOFF, 4 * BACKOFF),
        "sent",
    ),
    "5xx to the end": Storm(
        tuple(server_error(500) for _ in range(ATTEMPTS)),
        (BACKOFF, 2 * BACKOFF, 4 * BACKOFF),
        "http_500",
    ),
    "429 then sent": Storm((too_many(), too_many()), (RETRY_AFTER, RETRY_AFTER), "sent"),
    # Longer than the claim's lease (3 s here): the sweep and the free worker must still
    # leave the reply to the worker that is retrying it.
    "429 to the end": Storm(
        tuple(too_many(LONG_RETRY_AFTER) for _ in range(ATTEMPTS)),
        (LONG_RETRY_AFTER,) * 3,
        "20429",
    ),
    "5xx and 429 then sent": Storm(
        (server_error(503), too_many(), server_error(500)),
        (BACKOFF, RETRY_AFTER, 4 * BACKOFF),
        "sent",
    ),
    "4xx is final": Storm((twilio_error(400, 21211, "Invalid 'To' Phone Number"),), (), "21211"),
}


def test_5xx_and_429_storms_retry_as_the_policy_says_and_send_nothing_twice(
    wired: None, maya: User, twilio: FakeTwilio
) -> None:
    question = plain_question(maya)
    people: dict[str, str] = {}
    for n, (name, storm) in enumerate(STORMS.items()):
        number = f"+1415555{3000 + n:04d}"
        user = UserFactory(tenant=maya.tenant, username=f"storm{n}")
        phone_number_add(user=user, number=number, verified=True, primary=True)
        people[name] = f"whatsapp:{number}"
        twilio.script_to(people[name], *storm.answers)

    env = worker_env(**{**twilio_settings(twilio), "TWILIO_RETRY_BACKOFF_SECONDS": f"{BACKOFF}"})
    with running_stack(env, "storms", workers=2) as (_, _, sender):
        session = requests.Session()
        sids = {name: f"SM{n:032x}" for n, name in enumerate(STORMS)}
        for name, to in people.items():
            form = inbound(question, sid=sids[name], sender=to.removeprefix("whatsapp:"))
            posted = sender.post(session, form)
            assert posted.status == 200, posted

        def attempts(to: str) -> list[float]:
            return [
                request.received_at
                for request in list(twilio.requests)
                if request.method == "POST" and request.get("To") == to
            ]

        def settled() -> bool:
            unfinished = Message.objects.filter(
                direction=Message.Direction.INBOUND,
                turn_state__in=[TurnState.PENDING, TurnState.CLAIMED],
            )
            unsent = Message.objects.filter(
                direction=Message.Direction.OUTBOUND,
                delivery_status=Message.DeliveryStatus.QUEUED,
                provider_id__isnull=True,
            )
            return not unfinished.exists() and not unsent.exists()

        # The sweep runs as beat runs it, and the second worker is free: neither may take a
        # reply over while its sender is still retrying.
        assert sweeping_until(settled, timeout=60, every=0.5), [
            (name, len(attempts(people[name]))) for name in STORMS
        ]
        sweeping_until(lambda: False, timeout=3, every=0.5)  # a late duplicate would show now

        for name, storm in STORMS.items():
            to = people[name]
            times = attempts(to)
            assert len(times) == storm.attempts, (name, len(times))
            gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
            assert all(
                gap >= least - SLACK for gap, least in zip(gaps, storm.waits, strict=True)
            ), (name, gaps)
            sent = [message for message in twilio.messages if message.to == to]
            reply = Message.objects.get(
                sender_kind=Message.SenderKind.AGENT, reply_to__provider_id=sids[name]
            )
            if storm.outcome == "sent":
                assert len(sent) == 1, (name, len(sent))
                assert sent[0].body == reply.body
                assert reply.provider_id == sent[0].sid
                delivered = sender.post(
                    session,
                    {"MessageSid": sent[0].sid, "MessageStatus": "delivered",
                     "AccountSid": ACCOUNT_SID, "To": to},
                    path=STATUS,
                )  # fmt: skip
                assert delivered.status == 204, delivered
                reply.refresh_from_db()
                assert reply.delivery_status == Message.DeliveryStatus.DELIVERED
            else:
                assert sent == [], name
                assert reply.delivery_status == Message.DeliveryStatus.FAILED, name
                assert reply.error_code == storm.outcome, (name, reply.error_code)
                assert reply.provider_id is None
        assert set(
            Message.objects.filter(direction=Message.Direction.INBOUND).values_list(
                "turn_state", flat=True
            )
        ) == {TurnState.DONE}
        assert len(twilio.messages) == sum(s.outcome == "sent" for s in STORMS.values())
