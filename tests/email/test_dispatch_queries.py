"""The scheduled dispatch costs the same queries for a batch of 5 briefs as for a batch of 40,
but for one write of what they became every RECORD_EVERY briefs: claims, approvals, records and
events are read and written per batch (or per ten), not per brief. What each
reader gets is still their own (their approvals, their address), and a batch run again sends
nothing twice; what the ESPs reported meanwhile is kept."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from anymail.signals import AnymailTrackingEvent, EventType, post_send
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import User
from accounts.roles import MARKETING_MANAGER
from channels_app.email.models import BriefRun, EmailPreferences, EmailSend
from channels_app.email.sending import RECORD_EVERY, briefs_batch_send, briefs_dispatch
from channels_app.email.services import preferences_update, tracking_event_apply
from channels_app.events import Event, EventKind
from engarde.celery import app as celery_app
from hitl.models import HoldReason
from hitl.services import approval_request
from tests.email.conftest import Workspace
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(settings: Any) -> Iterator[None]:
    """The batch tasks run inline, with the real task functions; one batch holds them all."""
    settings.EMAIL_BRIEF_BATCH = 50
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def readers(workspace: Workspace, prefix: str, count: int) -> list[User]:
    people = []
    for n in range(count):
        person = StaffFactory(
            tenant=workspace.tenant,
            username=f"{prefix}{n}",
            first_name=f"Reader {n}",
            email=f"{prefix}{n}@acme.example",
            roles=[MARKETING_MANAGER],
        )
        preferences_update(user=person, now=timezone.now(), enabled=True, time_zone="UTC")
        people.append(person)
    return people


def due_now(people: list[User]) -> None:
    EmailPreferences.objects.filter(user__in=people).update(
        next_send_at=timezone.now() - timedelta(minutes=1)
    )


def dispatch_queries(capture: Any) -> int:
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        briefs_dispatch(now=timezone.now())
    return len(queries)


def test_a_batch_costs_the_same_queries_for_5_briefs_as_for_40(
    workspace: Workspace, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    tenant = workspace.tenant
    few, many = readers(workspace, "few", 5), readers(workspace, "many", 40)
    # One approval each may decide and one only the first of each group may: every brief has
    # its reader's own action items.
    shared = approval_request(
        tenant=tenant, action_type="held_reply", hold_reasons=[HoldReason.HUMAN_REQUESTED]
    )
    own = approval_request(
        tenant=tenant, action_type="held_reply", hold_reasons=[HoldReason.LOW_CONFIDENCE]
    )
    for person in few + many:
        assign_perm("hitl.decide_approval", person, shared)
    assign_perm("hitl.decide_approval", few[0], own)
    assign_perm("hitl.decide_approval", many[0], own)

    due_now([workspace.reader])
    dispatch_queries(django_capture_on_commit_callbacks)  # the first of the process: warm-up
    due_now(few)
    for_few = dispatch_queries(django_capture_on_commit_callbacks)
    due_now(many)
    for_many = dispatch_queries(django_capture_on_commit_callbacks)

    # One more write (its transaction's savepoint and release, the rows read, the upsert, the
    # events) for each further RECORD_EVERY briefs, and nothing else grows.
    writes = math.ceil(len(many) / RECORD_EVERY) - math.ceil(len(few) / RECORD_EVERY)
    assert for_many == for_few + 5 * writes, (for_few, for_many)
    sends = EmailSend.objects.filter(user__in=few + many)
    assert sends.count() == 45 and set(sends.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 46
    to = {message.to[0]: message for message in mail.outbox}
    # Each reader's brief is their own: the approval only the first may decide is in theirs.
    assert "Review and decide" in to["few0@acme.example"].body
    first, other = to["many0@acme.example"].body, to["many1@acme.example"].body
    assert first.count("Review and decide") == other.count("Review and decide") + 1
    assert all(s.subject and s.data["sections"] for s in sends)
    events = Event.objects.filter(tenant=tenant, kind=EventKind.EMAIL_SENT)
    assert sorted(e.data["send_id"] for e in events) == sorted(
        EmailSend.objects.values_list("pk", flat=True)
    )
    runs = BriefRun.objects.order_by("pk")
    assert [(r.due, r.sent, r.skipped, r.failed) for r in runs] == [
        (1, 1, 0, 0),
        (5, 5, 0, 0),
        (40, 40, 0, 0),
    ]
    # The last batch delivered again (acks_late): counted once, nothing sent twice.
    run = runs.last()
    assert run is not None
    items = [
        (p.pk, timezone.now().date().isoformat())
        for p in EmailPreferences.objects.filter(user__in=many)
    ]
    again = briefs_batch_send(run_id=run.pk, items=items, batch=run.counted_batches[0])
    assert again["sent"] == 40 and len(mail.outbox) == 46


def test_a_tracking_event_before_the_batch_is_recorded_is_not_undone(
    workspace: Workspace, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    """The batch records its rows once it is through: a "delivered" or a bounce that the ESP
    reported in between keeps its status, and a row erased in between stays erased."""
    bounced, gone = readers(workspace, "fast", 2)

    def tracking_meanwhile(sender: Any, message: Any, esp_name: str, **kwargs: Any) -> None:
        send_id = message.metadata["send_id"]
        if message.to == [bounced.email]:
            event = AnymailTrackingEvent(
                event_type=EventType.BOUNCED,
                metadata={"send_id": send_id},
                message_id=message.anymail_status.message_id,
                event_id=f"bounce-{send_id}",
            )
            tracking_event_apply(event=event, esp_name="test")
        if message.to == [gone.email]:
            EmailSend.objects.filter(pk=int(send_id)).delete()

    post_send.connect(tracking_meanwhile, weak=False)
    try:
        due_now([workspace.reader, bounced, gone])
        dispatch_queries(django_capture_on_commit_callbacks)
    finally:
        post_send.disconnect(tracking_meanwhile)
    assert len(mail.outbox) == 3
    assert EmailSend.objects.get(user=workspace.reader).status == "sent"
    send = EmailSend.objects.get(user=bounced)
    assert send.status == "bounced" and send.esp == "test" and send.esp_message_id
    assert not EmailSend.objects.filter(user=gone).exists()


def test_what_was_sent_is_recorded_every_few_briefs_not_at_the_end_of_the_batch(
    workspace: Workspace, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A worker killed in the middle of a batch (nothing runs after a SIGKILL) resends only the
    briefs sent since the last write once their claims expire, never the whole batch."""
    people = readers(workspace, "r", 2 * RECORD_EVERY + 5)
    recorded_when_sent: list[int] = []

    def count(sender: Any, message: Any, **kwargs: Any) -> None:
        recorded_when_sent.append(
            EmailSend.objects.filter(user__in=people, status=EmailSend.Status.SENT).count()
        )

    post_send.connect(count, weak=False)
    try:
        due_now(people)
        with django_capture_on_commit_callbacks(execute=True):
            briefs_dispatch(now=timezone.now())
    finally:
        post_send.disconnect(count)
    assert len(recorded_when_sent) == len(people)
    # The n-th send (from 0) finds every brief before the last multiple of RECORD_EVERY written.
    assert recorded_when_sent == [n // RECORD_EVERY * RECORD_EVERY for n in range(len(people))]
