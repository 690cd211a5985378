"""The schedule through a real Celery worker on Redis: the dispatch task hands the due brief to
a batch task, which the worker runs too; the brief is sent and the run counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from channels_app.email.models import BriefRun, EmailPreferences, EmailSend
from channels_app.email.services import preferences_update
from channels_app.email.tasks import briefs_dispatch_task
from tests.integration.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_sends_the_due_brief_once(live: object, maya: User) -> None:
    now = timezone.now()
    preferences_update(user=maya, now=now - timedelta(days=1), time_zone="UTC")
    EmailPreferences.objects.filter(user=maya).update(next_send_at=now - timedelta(minutes=1))
    briefs_dispatch_task.delay()
    briefs_dispatch_task.delay()  # an overlapping beat: the second finds nothing due
    run = wait_for(lambda: BriefRun.objects.filter(finished_at__isnull=False).first(), timeout=60)
    assert run is not None, list(BriefRun.objects.values())
    assert (run.due, run.sent, run.skipped, run.failed) == (1, 1, 0, 0)
    send = EmailSend.objects.get(user=maya)
    # The worker's settings send through anymail's test backend.
    assert send.status == "sent" and send.esp == "test" and send.run == run
    assert "Daily Brief" in send.subject
    assert BriefRun.objects.count() == 1
    assert EmailPreferences.objects.get(user=maya).next_send_at > now
