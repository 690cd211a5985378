"""PostgreSQL restarts while Twilio keeps posting: while it is down the webhook and /readyz answer
503 at once (no request hangs), and once it is back every message that got its 200 is answered,
once; a message refused with 503 is Twilio's to send again, and is stored once when it does.

The database is a copy of the test database in a PostgreSQL of the test's own (the suite's keeps
running); daphne and the worker use it, and the test reads it with plain SQL."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from accounts.models import User
from accounts.services import phone_number_add
from agents.models import AgentInstance
from tests.agents.fake_langflow import FakeLangflow
from tests.channels_app.fake_twilio import FakeResponse, FakeTwilio
from tests.factories import UserFactory
from tests.fault.stack import (
    Posted,
    PrivatePostgres,
    WebhookSender,
    running_stack,
    sweeping_until,
)
from tests.integration.fixtures import inbound, twilio_settings
from tests.integration.worker import wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

SENDERS = 4  # one posting thread each, one conversation each
PAUSE = 0.5  # between one sender's posts: about 8 messages a second in all
WITNESS = "+14155554999"
WITNESS_SID = "SM" + "e" * 32
BOUND = 5.0  # seconds: the longest a refusal (or a readiness probe) may take while it is down


@pytest.fixture
def langflow() -> Iterator[FakeLangflow]:
    with FakeLangflow(api_key="sk-restart") as fake:
        yield fake


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        yield pg
    finally:
        pg.remove()


def sending_to(twilio: FakeTwilio, number: str) -> bool:
    return any(request.get("To") == f"whatsapp:{number}" for request in list(twilio.requests))


class Load:
    """Senders posting new messages until told to stop; every answer is kept with its time."""

    def __init__(self, sender: WebhookSender, numbers: list[str]) -> None:
        self.sender = sender
        self.numbers = numbers
        self.results: list[tuple[float, Posted]] = []
        self.forms: dict[str, dict[str, str]] = {}
        self._sids = itertools.count()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(number,), daemon=True) for number in numbers
        ]

    def _run(self, number: str) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            with self._lock:
                sid = f"SM{next(self._sids):032x}"
                form = self.forms[sid] = inbound("How is Meta doing?", sid=sid, sender=number)
            started = time.monotonic()
            posted = self.sender.post(session, form)
            with self._lock:
                self.results.append((started, posted))
            self._stop.wait(PAUSE)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2 * BOUND)


def test_postgres_restart_answers_503_quickly_then_loses_nothing(
    wired: None,
    maya: User,
    twilio: FakeTwilio,
    langflow: FakeLangflow,
    private_postgres: PrivatePostgres,
) -> None:
    # Agents through a local Langflow that answers at once: the turns stay cheap enough for
    # every message of the load to be answered in the test's time.
    AgentInstance.objects.filter(tenant=maya.tenant).update(backend="langflow", flow_id="flow")
    numbers = [f"+1415555{4000 + n:04d}" for n in range(SENDERS)]
    for n, number in enumerate([*numbers, WITNESS]):
        user = UserFactory(tenant=maya.tenant, username=f"restart{n}")
        phone_number_add(user=user, number=number, verified=True, primary=True)
    pg = private_postgres.init_from_test_database()

    env = worker_env(
        **{
            **twilio_settings(twilio),
            "DATABASE_URL": pg.url,
            "LANGFLOW_API_URL": langflow.url,
            "LANGFLOW_API_KEY": "sk-restart",
            "TURN_SWEEP_AFTER_SECONDS": "1",
            # Longer than the outage: a reply Twilio took just before it is recorded after it.
            "TURN_LEASE_SECONDS": "10",
        }
    )
    with running_stack(env, "pg-restart", timeout=3 * BOUND) as (daphne, _, sender):
        readyz: list[tuple[int, float, dict[str, object]]] = []
        with Load(sender, numbers) as load:
            time.sleep(2)
            # A witness whose reply Twilio takes slowly: PostgreSQL stops between the send and
            # its record, the narrowest place to lose track of a message that went out.
            twilio.script_to(f"whatsapp:{WITNESS}", FakeResponse(status=201, delay=2.0))
            witness = sender.post(
                requests.Session(), inbound("How is Meta doing?", sid=WITNESS_SID, sender=WITNESS)
            )
            assert witness.status == 200, witness
            assert wait_for(lambda: sending_to(twilio, WITNESS), timeout=30)
            pg.stop()
            down_at = time.monotonic()
            time.sleep(1)
            for _ in range(2):
                started = time.monotonic()
                probe = requests.get(daphne.url + "/readyz", timeout=3 * BOUND)
                readyz.append((probe.status_code, time.monotonic() - started, probe.json()))
            time.sleep(1)
            up_at = time.monotonic()
            pg.start()
            time.sleep(3)
        results = list(load.results)

        # Every post answered (a hang would show as no answer after 3 * BOUND): taken, or
        # refused with 503, never a 500.
        statuses = Counter(posted.status for _, posted in results)
        assert set(statuses) <= {200, 503}, [p for _, p in results if p.status not in (200, 503)]
        # Those sent and answered while PostgreSQL was down: all refused, and quickly.
        while_down = [
            p for started, p in results if down_at < started < started + p.seconds < up_at
        ]
        assert while_down and {posted.status for posted in while_down} == {503}, while_down
        assert max(posted.seconds for posted in while_down) < BOUND, while_down
        assert '"error":"unavailable"' in while_down[0].body.replace(" ", "")
        before = [p for started, p in results if started + p.seconds < down_at]
        after = [p for started, p in results if started > up_at + 1]
        assert 200 in {p.status for p in before} and 200 in {p.status for p in after}, statuses
        assert [status for status, _, _ in readyz] == [503, 503], readyz
        assert all(seconds < BOUND for _, seconds, _ in readyz), readyz
        assert readyz[0][2]["failing"] == ["database"], readyz

        # Twilio sends the refused ones again (and, being Twilio, some taken ones too).
        refused = [posted.sid for _, posted in results if posted.status != 200]
        taken = [posted.sid for _, posted in results if posted.status == 200]
        session = requests.Session()
        for sid in refused + taken[::5]:
            again = sender.post(session, load.forms[sid])
            assert again.status == 200, again

        everyone = {posted.sid for _, posted in results} | {WITNESS_SID}

        def stored() -> Counter[str]:
            rows = pg.rows(
                "SELECT provider_id FROM channels_app_message WHERE direction = 'inbound'"
            )
            return Counter(provider_id for (provider_id,) in rows)

        def unanswered() -> int:
            (count,) = pg.rows(
                "SELECT count(*) FROM channels_app_message WHERE direction = 'inbound' "
                "AND turn_state IN ('pending', 'claimed')"
            )[0]
            return int(count)

        assert stored() == dict.fromkeys(everyone, 1)
        assert sweeping_until(lambda: unanswered() == 0, timeout=90), unanswered()
        wait_for(lambda: len(twilio.messages) > len(everyone), timeout=3)
        replies = pg.rows(
            "SELECT m.provider_id, r.provider_id FROM channels_app_message m "
            "JOIN channels_app_message r ON r.reply_to_id = m.id AND r.sender_kind = 'agent' "
            "WHERE m.direction = 'inbound'"
        )
        assert Counter(sid for sid, _ in replies) == dict.fromkeys(everyone, 1)
        # One send each (every send is a new Twilio sid), each the one its reply records.
        assert len(twilio.messages) == len(everyone)
        assert {reply_sid for _, reply_sid in replies} == {sent.sid for sent in twilio.messages}
        assert len([m for m in twilio.messages if m.to == f"whatsapp:{WITNESS}"]) == 1
        assert requests.get(daphne.url + "/readyz", timeout=BOUND).status_code == 200
