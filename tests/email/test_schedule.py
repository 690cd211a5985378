"""The schedule: each brief at its local delivery time across daylight-saving changes, one
brief per person and date however often the scheduler runs, runs that count what they did."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from channels_app.email import schedule
from channels_app.email.models import BriefRun, EmailPreferences, EmailSend
from channels_app.email.services import preferences_update
from channels_app.email.tasks import briefs_dispatch_task
from engarde.celery import app as celery_app
from tests.email.conftest import Workspace
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# 2026 in the US: clocks spring forward on Sunday March 8 (02:00 -> 03:00) and fall back on
# Sunday November 1 (02:00 -> 01:00).
SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_utc_instant_of_8am_follows_the_clock_change() -> None:
    daily = EmailPreferences(time_zone="America/New_York", delivery_time=time(8, 0))
    assert schedule.next_occurrence(daily, after=utc(2026, 3, 7, 0)) == utc(2026, 3, 7, 13)
    assert schedule.next_occurrence(daily, after=utc(2026, 3, 7, 13)) == utc(2026, 3, 8, 12)
    assert schedule.next_occurrence(daily, after=utc(2026, 10, 31, 12)) == utc(2026, 11, 1, 13)


def test_a_time_the_spring_forward_skips_goes_out_once_the_clocks_moved() -> None:
    # 02:30 does not exist on March 8 in New York: the brief goes at 03:30 EDT (07:30 UTC).
    early = EmailPreferences(time_zone="America/New_York", delivery_time=time(2, 30))
    first = schedule.next_occurrence(early, after=utc(2026, 3, 7, 12))
    assert first == utc(2026, 3, 8, 7, 30)
    assert first.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    assert schedule.brief_date_of(early, first) == SPRING_FORWARD


def test_a_time_the_fall_back_repeats_goes_out_at_its_first_occurrence_only() -> None:
    # 01:30 happens twice on November 1: at 05:30 UTC (EDT), then at 06:30 UTC (EST).
    early = EmailPreferences(time_zone="America/New_York", delivery_time=time(1, 30))
    first = schedule.next_occurrence(early, after=utc(2026, 10, 31, 12))
    assert first == utc(2026, 11, 1, 5, 30)
    following = schedule.next_occurrence(early, after=first)
    assert following == utc(2026, 11, 2, 6, 30)  # the next day: not the repeated 01:30


def test_weekly_and_custom_days() -> None:
    weekly = EmailPreferences(
        time_zone="Asia/Tokyo", delivery_time=time(9, 0), frequency="weekly", weekday=0
    )
    # Monday 09:00 in Tokyo is Monday 00:00 UTC.
    assert schedule.next_occurrence(weekly, after=utc(2026, 3, 3)) == utc(2026, 3, 9, 0)
    custom = EmailPreferences(
        time_zone="UTC", delivery_time=time(18, 0), frequency="custom", custom_days=[1, 3]
    )
    assert schedule.next_occurrence(custom, after=utc(2026, 3, 3, 18)) == utc(2026, 3, 5, 18)
    nothing = EmailPreferences(time_zone="UTC", frequency="custom", custom_days=[])
    assert schedule.next_occurrence(nothing, after=utc(2026, 3, 3)) is None


@pytest.fixture
def eager(django_capture_on_commit_callbacks: object) -> Iterator[None]:
    """Celery runs the enqueued batch tasks inline (the real task functions), and the batches
    enqueued on commit are run as the dispatch's transaction would commit them."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def dispatch(at: datetime, capture: object) -> list[BriefRun]:
    from channels_app.email.sending import briefs_dispatch

    with capture(execute=True):  # type: ignore[operator]
        return briefs_dispatch(now=at)


def every_quarter_hour(start: datetime, end: datetime) -> Iterator[datetime]:
    at = start
    while at < end:
        yield at
        at += timedelta(minutes=15)


@pytest.mark.parametrize(
    ("first_day", "expected"),
    [
        # Saturday EST, Sunday EDT (the clocks went forward), Monday EDT.
        (date(2026, 3, 7), [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)]),
        # Saturday EDT, Sunday EST (the clocks went back), Monday EST.
        (date(2026, 10, 31), [utc(2026, 10, 31, 12), utc(2026, 11, 1, 13), utc(2026, 11, 2, 13)]),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_runs_every_15_minutes_send_each_brief_once_at_8am_local(
    workspace: Workspace,
    eager: None,
    django_capture_on_commit_callbacks: object,
    first_day: date,
    expected: list[datetime],
) -> None:
    start = datetime.combine(first_day, time(0, 0), tzinfo=UTC)
    preferences_update(user=workspace.reader, now=start, delivery_time=time(8, 0))
    assert EmailPreferences.objects.get(user=workspace.reader).time_zone == "America/New_York"
    for at in every_quarter_hour(start, start + timedelta(days=3)):
        dispatch(at, django_capture_on_commit_callbacks)
    runs = list(BriefRun.objects.order_by("started_at"))
    assert [run.started_at for run in runs] == expected  # the first run at or after 08:00 local
    assert [run.first_due_at for run in runs] == expected
    assert all((run.due, run.sent, run.skipped, run.failed) == (1, 1, 0, 0) for run in runs)
    assert all(run.finished_at is not None for run in runs)
    sends = EmailSend.objects.filter(user=workspace.reader).order_by("brief_date")
    assert [s.brief_date for s in sends] == [first_day + timedelta(days=n) for n in range(3)]
    assert len(mail.outbox) == 3


def test_the_repeated_hour_of_the_fall_back_sends_once(
    workspace: Workspace, eager: None, django_capture_on_commit_callbacks: object
) -> None:
    start = utc(2026, 10, 31, 12)
    preferences_update(user=workspace.reader, now=start, delivery_time=time(1, 30))
    for at in every_quarter_hour(start, utc(2026, 11, 1, 12)):
        dispatch(at, django_capture_on_commit_callbacks)
    assert [r.started_at for r in BriefRun.objects.all()] == [utc(2026, 11, 1, 5, 30)]
    assert EmailSend.objects.get().brief_date == FALL_BACK


def test_running_the_job_twice_sends_one_brief(
    workspace: Workspace, eager: None, django_capture_on_commit_callbacks: object
) -> None:
    now = timezone.now()
    # Due an hour or two ago, whatever the time of day the test runs: a brief more than
    # STALE_AFTER late is skipped rather than sent.
    preferences_update(
        user=workspace.reader,
        now=now - timedelta(days=1),
        delivery_time=time((now - timedelta(hours=1)).hour, 0),
        time_zone="UTC",
    )
    preferences = EmailPreferences.objects.get(user=workspace.reader)
    due_at = preferences.next_send_at
    assert due_at <= now
    # Two dispatchers at once (an overlapping beat): the conditional update lets one hand it out.
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        briefs_dispatch_task.apply()
        briefs_dispatch_task.apply()
    # And the same batch delivered twice to the workers (acks_late, a redelivery).
    from channels_app.email.tasks import briefs_batch_task

    run = BriefRun.objects.get()
    assert len(run.counted_batches) == 1
    item = [[preferences.pk, due_at.date().isoformat()]]
    briefs_batch_task.apply((run.pk, item, 0, run.counted_batches[0]))
    assert len(mail.outbox) == 1
    assert EmailSend.objects.filter(user=workspace.reader).count() == 1
    run.refresh_from_db()
    assert (run.due, run.sent, run.skipped, run.failed) == (1, 1, 0, 0)
    assert run.finished_at is not None
    # Another run that reaches the same person and date (a manual trigger, a second run) skips.
    from channels_app.email.sending import brief_send_now

    assert brief_send_now(user=workspace.reader, now=now).reason == "already_sent"
    assert len(mail.outbox) == 1


def test_a_run_counts_what_was_due_sent_skipped_and_failed(
    workspace: Workspace, eager: None, django_capture_on_commit_callbacks: object
) -> None:
    now = utc(2030, 6, 3, 12)  # a Monday
    tenant = workspace.tenant
    people = {
        "carmen": workspace.reader,
        "no_address": UserFactory(tenant=tenant, username="quiet", email=""),
        "inactive": UserFactory(tenant=tenant, username="gone", is_active=False),
        "late": UserFactory(tenant=tenant, username="late"),
    }
    for person in people.values():
        preferences_update(
            user=person, now=now - timedelta(days=1), delivery_time=time(11, 45), time_zone="UTC"
        )
    # The scheduler was down since yesterday for "late": their brief is yesterday's news.
    EmailPreferences.objects.filter(user=people["late"]).update(
        next_send_at=utc(2030, 6, 1, 11, 45), delivery_time=time(23, 0)
    )
    runs = dispatch(now, django_capture_on_commit_callbacks)
    assert len(runs) == 1
    run = BriefRun.objects.get()
    assert (run.due, run.sent, run.skipped, run.failed) == (4, 1, 3, 0)
    assert run.finished_at is not None
    assert [m.to for m in mail.outbox] == [["carmen@acme.example"]]
    # Everyone's next brief is tomorrow's (or, for "late", tonight's at 23:00).
    for person in people.values():
        assert EmailPreferences.objects.get(user=person).next_send_at > now


def test_the_dispatch_is_a_periodic_task_every_15_minutes() -> None:
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks", stdout=StringIO())
    task = PeriodicTask.objects.get(task="channels_app.email.tasks.briefs_dispatch_task")
    assert task.enabled and (task.interval.every, task.interval.period) == (900, "seconds")
    assert task.task in celery_app.tasks  # the worker knows it by that name
    assert "channels_app.email.tasks.briefs_batch_task" in celery_app.tasks
