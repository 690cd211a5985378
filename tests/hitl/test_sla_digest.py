"""The SLA sweep tells each approver once: one console notification and one email per sweep,
listing every approval that needs them; its queries do not grow with what is due; the rows it
writes in bulk carry the history and audit trail that one by one would; an overlapping sweep
skips what another holds; one broken approval does not stop the others."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import remove_perm

from hitl.models import Approval, ApprovalHistory, Notification
from hitl.sla import SweepResult, sla_sweep
from tests.hitl.conftest import Team

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The Standard Budget Approval's first level: two hours, so the reminder is due at 1 h.
REMINDER_DUE = T0 + timedelta(hours=1, minutes=5)
DIGEST = "approvals need your decision"


def file(team: Team, count: int, at: datetime = T0) -> list[Approval]:
    with time_machine.travel(at, tick=False):
        return [team.budget_increase() for _ in range(count)]


def sweep(now: datetime, capture: Any) -> SweepResult:
    """The sweep as beat runs it: its transaction commits, and the emails go after."""
    mail.outbox.clear()
    with time_machine.travel(now, tick=False), capture(execute=True):
        return sla_sweep()


def emails_to(username: str) -> list[mail.EmailMultiAlternatives]:
    return [m for m in mail.outbox if m.to == [f"{username}@acme.example"]]


def html_of(message: mail.EmailMultiAlternatives) -> str:
    return str(message.alternatives[0][0])


def digests(username: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient__username=username, title__contains=DIGEST))


def test_an_approver_with_many_due_gets_one_email_listing_them_all(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    approvals = file(team, 4)
    before = Notification.objects.count()

    result = sweep(REMINDER_DUE, django_capture_on_commit_callbacks)

    assert (result.checked, result.reminded) == (4, 4)
    (email,) = emails_to("manager")
    assert email.subject == f"4 {DIGEST}: 4 due within the hour"
    for approval in approvals:
        url = f"/admin/hitl/approval/{approval.pk}/change/"
        assert url in email.body and url in html_of(email)
    assert email.body.count("Raise ") == 4 and email.body.count("55 min left") == 4
    assert "Medium risk (50.00/100)" in email.body and "Medium risk" in html_of(email)
    assert "/admin/hitl/approval/?awaiting=me" in email.body

    # One console notification, which names the approvals by number, not by title.
    assert Notification.objects.count() == before + 2
    (notification,) = digests("manager")
    assert notification.approval_id is None
    assert notification.title == f"4 {DIGEST}: 4 due within the hour"
    assert notification.body.splitlines() == [
        f"Approval #{approval.pk}: due within the hour, Medium risk (50.00/100), 55 min left."
        for approval in approvals
    ]
    # Each approval's own trail says it was reminded and its approvers notified.
    for approval in approvals:
        assert list(approval.history.values_list("event", flat=True)) == [
            "created",
            "notified",
            "reminded",
            "notified",
        ]
        told = approval.history.filter(event="notified").last()
        assert told is not None
        assert told.data == {"kind": "reminder", "recipients": 2, "channels": ["email", "in_app"]}


def test_two_approvers_each_get_their_own_digest(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    approvals = file(team, 3)
    # manager2 already voted on the first (a level needing two): it is no longer theirs.
    remove_perm("hitl.decide_approval", team.staff["manager2"], approvals[0])

    sweep(REMINDER_DUE, django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == [
        "manager2@acme.example",
        "manager@acme.example",
    ]
    (mine,) = emails_to("manager")
    (theirs,) = emails_to("manager2")
    assert mine.subject.startswith(f"3 {DIGEST}") and theirs.subject.startswith(f"2 {DIGEST}")
    first = f"/admin/hitl/approval/{approvals[0].pk}/change/"
    assert first in mine.body and first not in theirs.body
    assert "Hello manager2," in theirs.body
    assert len(digests("manager")) == 1 and len(digests("manager2")) == 1
    assert digests("manager2")[0].body.count("Approval #") == 2


def test_one_due_approval_gets_the_notice_of_its_own(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    (approval,) = file(team, 1)

    sweep(REMINDER_DUE, django_capture_on_commit_callbacks)

    (email,) = emails_to("manager")
    assert email.subject == f"1 hour left to decide: {approval.title}"
    reminders = Notification.objects.filter(title__startswith="1 hour left")
    assert sorted(n.recipient.username for n in reminders) == ["manager", "manager2"]
    assert {n.approval_id for n in reminders} == {approval.pk}


def test_the_sweep_s_queries_do_not_grow_with_what_is_due(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    file(team, 5)
    file(team, 50, at=T0 + timedelta(minutes=10))

    def queries_at(now: datetime) -> tuple[int, SweepResult]:
        with CaptureQueriesContext(connection) as queries:
            result = sweep(now, django_capture_on_commit_callbacks)
        return len(queries), result

    few, five = queries_at(REMINDER_DUE)
    many, fifty = queries_at(REMINDER_DUE + timedelta(minutes=10))

    assert (five.reminded, fifty.reminded) == (5, 50)
    assert many == few, (few, many)
    assert len(mail.outbox) == 2


def test_bulk_written_reminders_keep_the_audit_trail(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    approvals = file(team, 2)

    sweep(REMINDER_DUE, django_capture_on_commit_callbacks)

    for approval in approvals:
        entry = LogEntry.objects.get_for_object(approval).filter(action=LogEntry.Action.UPDATE)
        (update,) = entry
        assert set(update.changes) == {"reminded_at", "next_check_at"}
        assert update.changes["reminded_at"][0] == "None"
        assert update.actor is None
        assert update.additional_data == {"tenant_id": team.tenant.pk}
        approval.refresh_from_db()
        assert approval.reminded_at == REMINDER_DUE
        # Reminded: the next check is the deadline itself.
        assert approval.next_check_at == approval.sla_deadline == T0 + timedelta(hours=2)


def test_breaches_in_bulk_record_the_minutes_over(
    team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    approvals = file(team, 2) + file(team, 1, at=T0 + timedelta(minutes=7))

    result = sweep(T0 + timedelta(hours=2, minutes=10), django_capture_on_commit_callbacks)

    assert (result.breached, result.reminded) == (3, 0)
    minutes = []
    for approval in approvals:
        approval.refresh_from_db()
        assert approval.sla_breached and approval.breached_at == T0 + timedelta(hours=2, minutes=10)
        minutes.append(approval.sla_breach_minutes)
        breach = approval.history.get(event="breached")
        assert breach.data == {"minutes_over": approval.sla_breach_minutes}
    assert minutes == [10, 10, 3]
    (email,) = emails_to("manager")
    assert email.subject == f"3 {DIGEST}: 3 overdue"
    assert "overdue by 10 min" in email.body and "overdue by 3 min" in email.body


@pytest.mark.django_db(transaction=True)
def test_an_overlapping_sweep_skips_what_the_other_holds(team: Team) -> None:
    approvals = file(team, 3)
    results: dict[str, SweepResult] = {}

    def run(name: str) -> threading.Thread:
        def target() -> None:
            try:
                results[name] = sla_sweep(now=REMINDER_DUE)
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    def waiting_on_a_lock() -> int:
        with connection.cursor() as cursor:
            # Read inside a transaction, the activity view is a snapshot unless cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO \"hitl_notification\"%%'"
            )
            return int(cursor.fetchone()[0])

    mail.outbox.clear()
    with transaction.atomic():
        # Holding the console notifications' table stops the first sweep just before it
        # commits, with every due approval locked and already marked reminded.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE hitl_notification IN SHARE MODE")
        first = run("first")
        wait_until(lambda: waiting_on_a_lock() == 1)
        second = run("second")
        second.join(timeout=15)
        assert not second.is_alive(), "the second sweep waited for the first one's rows"
        assert results["second"].checked == 0
    first.join(timeout=15)

    assert results["first"].reminded == 3
    for approval in approvals:
        assert approval.history.filter(event="reminded").count() == 1
    assert len(digests("manager")) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [
        "manager2@acme.example",
        "manager@acme.example",
    ]


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while not condition():
        assert datetime.now(UTC) < deadline, "timed out"
        threading.Event().wait(0.05)


def test_one_broken_approval_does_not_stop_the_others(
    team: Team, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broken, *others = file(team, 3)
    # The database refuses any change to one approval (as a constraint or a bad value would).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION refuse_approval() RETURNS trigger AS $$
            BEGIN
                IF NEW.id = {broken.pk} THEN RAISE EXCEPTION 'broken approval'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_approval BEFORE UPDATE ON hitl_approval
                FOR EACH ROW EXECUTE FUNCTION refuse_approval();
            """
        )

    result = sweep(REMINDER_DUE, django_capture_on_commit_callbacks)

    assert result.reminded == 2
    for approval in others:
        assert approval.history.filter(event="reminded").count() == 1
    broken.refresh_from_db()
    assert broken.reminded_at is None and broken.next_check_at == T0 + timedelta(hours=1)
    assert not broken.history.filter(event="reminded").exists()
    assert f"approval {broken.pk} failed" in caplog.text
    # Told about the two that went through, and nothing about the broken one.
    assert {m.to[0] for m in mail.outbox} == {"manager@acme.example", "manager2@acme.example"}
    assert not any(f"/approval/{broken.pk}/" in m.body for m in mail.outbox)
    assert ApprovalHistory.objects.filter(approval=broken, event="notified").count() == 1
