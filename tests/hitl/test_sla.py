"""monitor_hitl_sla on a frozen clock: reminder once, breach with the minutes over, escalation
after the workflow's hours, expiry; and work that follows what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from hitl.models import Approval, Notification
from hitl.selectors import approvals_awaiting
from hitl.sla import sla_sweep
from hitl.tasks import monitor_hitl_sla_task
from tests.hitl.conftest import Team

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sweep_at(delta: timedelta) -> dict[str, int]:
    with time_machine.travel(T0 + delta, tick=False):
        result = sla_sweep()
    return {key: value for key, value in vars(result).items() if key != "ids" and value}


def kinds(approval: Approval) -> list[str]:
    return list(approval.history.values_list("event", flat=True))


def awaiting(team: Team, name: str) -> bool:
    return approvals_awaiting(team.staff[name]).exists()


def test_reminder_breach_escalation_and_expiry(team: Team) -> None:
    with time_machine.travel(T0, tick=False):
        approval = team.budget_increase()
    assert approval.sla_deadline == T0 + timedelta(hours=2)
    assert approval.next_check_at == T0 + timedelta(hours=1)

    assert sweep_at(timedelta(minutes=30)) == {}
    assert sweep_at(timedelta(hours=1, minutes=5)) == {"checked": 1, "reminded": 1}
    assert sweep_at(timedelta(hours=1, minutes=30)) == {}  # once only
    reminders = Notification.objects.filter(title__startswith="1 hour left")
    assert {n.recipient.username for n in reminders} == {"manager", "manager2"}

    assert sweep_at(timedelta(hours=2, minutes=10)) == {"checked": 1, "breached": 1}
    approval.refresh_from_db()
    assert approval.sla_breached and approval.sla_breach_minutes == 10
    assert approval.status == "pending" and approval.current_level == 1

    # Twelve hours at level 1 (the workflow's escalation hours): up to the director and CFO.
    assert sweep_at(timedelta(hours=12, minutes=1)) == {"checked": 1, "escalated": 1}
    approval.refresh_from_db()
    assert (approval.status, approval.current_level) == ("escalated", 2)
    # Level 2's own 24 hours, capped by the workflow's 24 hours from the start.
    assert approval.sla_deadline == T0 + timedelta(hours=24)
    assert awaiting(team, "cfo") and not awaiting(team, "manager")

    assert sweep_at(timedelta(hours=23, minutes=5)) == {"checked": 1, "reminded": 1}
    # Level 2's escalation hours run out at 24h01: breached and, past the last level, handed
    # to the workspace's super admins as well, once.
    assert sweep_at(timedelta(hours=24, minutes=3)) == {
        "checked": 1,
        "breached": 1,
        "escalated": 1,
    }
    approval.refresh_from_db()
    assert approval.sla_breach_minutes == 3 and approval.escalate_at is None
    assert awaiting(team, "owner") and awaiting(team, "cfo")
    assert sweep_at(timedelta(hours=48)) == {}

    assert sweep_at(timedelta(hours=72, minutes=1)) == {"checked": 1, "expired": 1}
    approval.refresh_from_db()
    assert approval.status == "expired" and approval.next_check_at is None
    assert not awaiting(team, "owner")
    assert kinds(approval) == [
        "created",
        "notified",
        "reminded",
        "notified",
        "breached",
        "notified",
        "escalated",
        "notified",
        "reminded",
        "notified",
        "breached",
        "notified",
        "escalated",
        "notified",
        "expired",
        "requester_told",
    ]
    assert team.conversation.messages.get(sender_kind="system").body == (
        f'Your request "{approval.title}" expired before anyone decided it.'
    )
    assert sweep_at(timedelta(hours=100)) == {}


@override_settings(HITL_APPROVAL_EXPIRY_HOURS=1)
def test_expiry_is_configurable(team: Team) -> None:
    with time_machine.travel(T0, tick=False):
        approval = team.budget_increase()
    assert approval.expires_at == T0 + timedelta(hours=1)
    assert sweep_at(timedelta(minutes=59)) == {}
    assert sweep_at(timedelta(hours=1)) == {"checked": 1, "expired": 1}


def test_a_decision_in_time_leaves_nothing_to_check(team: Team) -> None:
    with time_machine.travel(T0, tick=False):
        approval = team.budget_increase()
        team.client("manager").post(
            f"/api/v1/admin/hitl/{approval.pk}/reject", {"reason": "No"}, format="json"
        )
    approval.refresh_from_db()
    assert approval.next_check_at is None and not approval.sla_breached
    assert sweep_at(timedelta(hours=80)) == {}


def test_the_sweep_reads_only_what_is_due(team: Team) -> None:
    with time_machine.travel(T0, tick=False):
        due = team.budget_increase()
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        later = [team.budget_increase() for _ in range(3)]

    def queries_for_one_due() -> int:
        with (
            time_machine.travel(T0 + timedelta(hours=1, minutes=1), tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            result = sla_sweep()
        assert result.ids == [due.pk]
        Approval.objects.filter(pk=due.pk).update(reminded_at=None, next_check_at=T0)
        due.history.filter(event="reminded").delete()
        return len(queries)

    few = queries_for_one_due()
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        later += [team.budget_increase() for _ in range(20)]
    assert queries_for_one_due() == few
    assert all(a.next_check_at > T0 + timedelta(hours=5) for a in later)


def test_the_periodic_task_runs_the_sweep(team: Team) -> None:
    with time_machine.travel(T0, tick=False):
        team.budget_increase()
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        counts = monitor_hitl_sla_task.apply().get()
    # Already past the deadline when first seen: marked breached, no late reminder.
    assert counts["breached"] == 1 and counts["reminded"] == 0
