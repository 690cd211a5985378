"""Retention: every line of the PRD's table at its boundary on a frozen clock, what anonymising
keeps, idempotence, dry runs, batches, what is never touched, the command, the nightly beat
entry, the access log's trigger and the runs' admin page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from accounts.models import User
from accounts.roles import COMPLIANCE_OFFICER, SUPER_ADMIN
from agents.models import AgentRun
from channels_app.events import Event, EventKind
from channels_app.models import Bookmark, Conversation, Message, TurnState
from engarde.celery import app as celery_app
from hitl.models import Approval, ApprovalHistory, ApprovalVote, Notification
from privacy import retention
from privacy.models import AdminAccessLog, DataRequest, RetentionRun
from privacy.retention import RETENTION_DAYS, retention_apply, retention_policies
from privacy.retention_tasks import retention_apply_task
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, MessageFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT_JSON = '{"user": {"username": "maya", "email": "maya@acme.example"}, "messages": []}'


@pytest.fixture
def now() -> Iterator[datetime]:
    """A frozen clock at the real present: the access log's trigger reads the database's clock,
    which no test can move."""
    frozen = timezone.now().replace(microsecond=0)
    with time_machine.travel(frozen, tick=False):
        yield frozen


def ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


# One row per policy, at a given age; and whether retention has dealt with it.


@dataclass
class Row:
    gone: Callable[[], bool]


def _message_in(conversation: Conversation, **fields: object) -> Message:
    message = MessageFactory(conversation=conversation, **fields)
    assert isinstance(message, Message)
    return message


def _anonymised(message: Message) -> Callable[[], bool]:
    def gone() -> bool:
        message.refresh_from_db()
        return message.body == "" and "anonymised_at" in message.metadata

    return gone


def _conversation_row(people: TenantPeople, now: datetime, age: datetime, **user: object) -> Row:
    person = UserFactory(tenant=people.tenant, **user)
    conversation = ConversationFactory(tenant=people.tenant, user=person, last_activity_at=age)
    return Row(_anonymised(_message_in(conversation)))


def active_user(people: TenantPeople, now: datetime, age: datetime) -> Row:
    person = UserFactory(tenant=people.tenant)
    # Wrote yesterday: active, so only the 365 days apply to their old conversation.
    ConversationFactory(tenant=people.tenant, user=person, last_activity_at=ago(now, 1))
    old = ConversationFactory(tenant=people.tenant, user=person, last_activity_at=age)
    return Row(_anonymised(_message_in(old)))


def inactive_user(people: TenantPeople, now: datetime, age: datetime) -> Row:
    return _conversation_row(people, now, age, is_active=False)


def deleted_user(people: TenantPeople, now: datetime, age: datetime) -> Row:
    return _conversation_row(people, now, age, is_deleted=True, deleted_at=age)


def raw_event(people: TenantPeople, now: datetime, age: datetime) -> Row:
    event = Event.objects.create(tenant=people.tenant, kind=EventKind.MESSAGE_RECEIVED)
    Event.objects.filter(pk=event.pk).update(created_at=age)
    return Row(lambda: not Event.objects.filter(pk=event.pk).exists())


def _approval(people: TenantPeople, status: str, ended: datetime) -> Approval:
    return Approval.objects.create(
        tenant=people.tenant,
        action_type="update_budget",
        status=status,
        decided_at=ended,
        created_at=ended - timedelta(hours=2),
    )


def approval(status: str) -> Callable[[TenantPeople, datetime, datetime], Row]:
    def make(people: TenantPeople, now: datetime, age: datetime) -> Row:
        made = _approval(people, status, age)
        return Row(lambda: not Approval.objects.filter(pk=made.pk).exists())

    return make


def access_log(people: TenantPeople, now: datetime, age: datetime) -> Row:
    entry = AdminAccessLog.objects.create(
        tenant=people.tenant,
        admin_user=people.owner,
        action=AdminAccessLog.Action.VIEW_CONVERSATION,
        resource_type="conversation",
        resource_id="1",
        timestamp=age,
    )
    return Row(lambda: not AdminAccessLog.objects.filter(pk=entry.pk).exists())


def _export(people: TenantPeople, expires_at: datetime) -> DataRequest:
    subject = UserFactory(tenant=people.tenant)
    return DataRequest.objects.create(
        tenant=people.tenant,
        subject=subject,
        kind=DataRequest.Kind.EXPORT,
        status=DataRequest.Status.DONE,
        payload=EXPORT_JSON,
        expires_at=expires_at,
    )


def export_payload(people: TenantPeople, now: datetime, age: datetime) -> Row:
    request = _export(people, expires_at=age)

    def gone() -> bool:
        request.refresh_from_db()
        return request.payload == ""

    return Row(gone)


MAKERS: dict[str, Callable[[TenantPeople, datetime, datetime], Row]] = {
    "conversation_logs.active_users": active_user,
    "conversation_logs.inactive_users": inactive_user,
    "conversation_logs.deleted_users": deleted_user,
    "platform_event_logs.raw_events": raw_event,
    "hitl_approvals.approved": approval(Approval.Status.APPROVED),
    "hitl_approvals.rejected": approval(Approval.Status.REJECTED),
    "hitl_approvals.expired": approval(Approval.Status.EXPIRED),
    "admin_access_logs.all": access_log,
    "data_requests.export_payloads": export_payload,
}


ROLLUPS = "platform_event_logs.aggregated_analytics"


def ours(run: RetentionRun) -> dict[str, int]:
    """The run's counts of the policies these tests plant rows for."""
    return {name: count for name, count in run.counts.items() if name in MAKERS}


@pytest.fixture
def no_rollups(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line of the table that no app has registered a policy for yet (the rollups, until
    monitoring registers theirs)."""
    monkeypatch.delitem(retention._POLICIES, ROLLUPS, raising=False)


def test_the_table_is_the_prds() -> None:
    assert {
        name: days
        for name, days in RETENTION_DAYS.items()
        if name != "data_requests.export_payloads"
    } == {
        "conversation_logs.active_users": 365,
        "conversation_logs.inactive_users": 90,
        "conversation_logs.deleted_users": 30,
        "platform_event_logs.raw_events": 90,
        "platform_event_logs.aggregated_analytics": 730,
        "hitl_approvals.approved": 1095,
        "hitl_approvals.rejected": 365,
        "hitl_approvals.expired": 90,
        "admin_access_logs.all": 2555,
    }
    # Every line with a table here has its policy, in the table's order. The rollups' line
    # (730 days) is monitoring's to register with its table.
    names = [policy.name for policy in retention_policies()]
    assert [name for name in names if name in MAKERS] == list(MAKERS)
    assert set(names) - set(MAKERS) <= {ROLLUPS}


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize(("offset", "removed"), [(-1, False), (0, False), (1, True)])
def test_each_policy_at_its_boundary(
    people: TenantPeople, now: datetime, name: str, offset: int, removed: bool
) -> None:
    """A row one day inside, exactly at, and one day past its retention (364, 365 and 366 days
    for a 365-day line)."""
    days = RETENTION_DAYS[name] + offset
    row = MAKERS[name](people, now, ago(now, days))
    run = retention_apply(dry_run=False)
    assert row.gone() is removed, f"{name} at {days} days"
    assert run.counts[name] == int(removed)
    assert sum(run.counts.values()) == int(removed)  # no other policy touched it
    assert run.error == ""


def test_a_person_silent_for_90_days_is_inactive(people: TenantPeople, now: datetime) -> None:
    quiet = UserFactory(tenant=people.tenant)
    talking = UserFactory(tenant=people.tenant)
    ConversationFactory(tenant=people.tenant, user=talking, last_activity_at=ago(now, 90))
    older = {
        person: _message_in(
            ConversationFactory(tenant=people.tenant, user=person, last_activity_at=ago(now, 200))
        )
        for person in (quiet, talking)
    }
    run = retention_apply(dry_run=False)
    assert _anonymised(older[quiet])()  # nothing in 91+ days: inactive, 90 days
    assert not _anonymised(older[talking])()  # wrote 90 days ago: active, 365 days
    assert run.counts["conversation_logs.inactive_users"] == 1
    assert run.counts["conversation_logs.active_users"] == 0


def test_anonymising_keeps_what_the_analytics_count(people: TenantPeople, now: datetime) -> None:
    person = UserFactory(tenant=people.tenant, is_deleted=True)
    conversation = ConversationFactory(
        tenant=people.tenant, user=person, last_activity_at=ago(now, 31), message_count=3
    )
    question = _message_in(
        conversation,
        provider_id="SM" + "1" * 32,
        metadata={"media": [{"url": "https://api.twilio.com/media/ME1"}]},
    )
    reply = _message_in(
        conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        agent_type="paid_ads_optimization",
        confidence=0.82,
        response_time_ms=950,
        delivery_status=Message.DeliveryStatus.READ,
        reply_to=question,
        metadata={"run_id": 7, "understood": {"campaign": "Maya's spring sale"}},
    )
    failed = _message_in(
        conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.SYSTEM,
        delivery_status=Message.DeliveryStatus.FAILED,
        error_code="not_approved",
        error_message="Rejected: tells Maya her card number",
        metadata={"system": "quota"},
    )
    Bookmark.objects.create(user=person, message=reply)
    run_row = AgentRun.objects.create(
        tenant=people.tenant,
        agent_type="paid_ads_optimization",
        backend="builtin",
        status="ok",
        latency_ms=900,
        conversation=conversation,
    )
    event = Event.objects.create(
        tenant=people.tenant,
        kind=EventKind.REPLY_SENT,
        conversation=conversation,
        message=reply,
        created_at=ago(now, 31),
    )

    run = retention_apply(dry_run=False)

    assert run.counts["conversation_logs.deleted_users"] == 3
    stamp = now.isoformat()
    for message in (question, reply, failed):
        message.refresh_from_db()
        assert message.body == ""
        assert message.provider_id is None
        assert message.error_message == ""
    assert question.metadata == {"anonymised_at": stamp}
    assert reply.metadata == {"run_id": 7, "anonymised_at": stamp}
    assert failed.metadata == {"system": "quota", "anonymised_at": stamp}
    # What the analytics count is all still there.
    assert (reply.direction, reply.sender_kind, reply.agent_type) == (
        "outbound",
        "agent",
        "paid_ads_optimization",
    )
    assert (reply.confidence, reply.response_time_ms, reply.delivery_status) == (0.82, 950, "read")
    assert reply.reply_to == question
    assert (failed.delivery_status, failed.error_code) == ("failed", "not_approved")
    assert Message.objects.filter(conversation=conversation).count() == 3
    conversation.refresh_from_db()
    assert conversation.message_count == 3
    assert AgentRun.objects.filter(pk=run_row.pk, conversation=conversation).exists()
    assert Event.objects.filter(pk=event.pk, message=reply).exists()
    assert not Bookmark.objects.exists()


def test_a_second_run_finds_nothing_more(people: TenantPeople, now: datetime) -> None:
    rows = [make(people, now, ago(now, RETENTION_DAYS[name] + 1)) for name, make in MAKERS.items()]
    first = retention_apply(dry_run=False)
    assert ours(first) == dict.fromkeys(MAKERS, 1)
    assert all(row.gone() for row in rows)
    second = retention_apply(dry_run=False)
    assert ours(second) == dict.fromkeys(MAKERS, 0)
    dry = retention_apply(dry_run=True)
    assert ours(dry) == dict.fromkeys(MAKERS, 0)


def test_a_dry_run_counts_and_changes_nothing(people: TenantPeople, now: datetime) -> None:
    rows = [make(people, now, ago(now, RETENTION_DAYS[name] + 1)) for name, make in MAKERS.items()]
    run = retention_apply(dry_run=True)
    assert run.dry_run and run.finished_at == now
    assert ours(run) == dict.fromkeys(MAKERS, 1)
    assert not any(row.gone() for row in rows)
    assert RetentionRun.objects.get() == run


def test_batches_smaller_than_the_rows(people: TenantPeople, now: datetime) -> None:
    person = UserFactory(tenant=people.tenant, is_deleted=True)
    conversation = ConversationFactory(
        tenant=people.tenant, user=person, last_activity_at=ago(now, 31)
    )
    MessageFactory.create_batch(7, conversation=conversation)
    events = [Event(tenant=people.tenant, kind=EventKind.REPLY_SENT) for _ in range(5)]
    Event.objects.bulk_create(events)
    Event.objects.update(created_at=ago(now, 91))

    run = retention_apply(dry_run=False, batch_size=2)

    assert run.counts["conversation_logs.deleted_users"] == 7
    assert run.counts["platform_event_logs.raw_events"] == 5
    assert not Message.objects.exclude(metadata__has_key="anonymised_at").exists()
    assert not Event.objects.exists()


def test_what_still_has_work_to_do_is_never_touched(people: TenantPeople, now: datetime) -> None:
    long_ago = ago(now, 4000)
    kept = [
        Approval.objects.create(
            tenant=people.tenant,
            action_type="update_budget",
            status=status,
            created_at=long_ago,
            expires_at=long_ago,
        )
        for status in (Approval.Status.PENDING, Approval.Status.ESCALATED)
    ]
    # Approved, but its action has not run yet.
    kept.append(_approval(people, Approval.Status.APPROVED, long_ago))
    Approval.objects.filter(pk=kept[-1].pk).update(execution_status=Approval.Execution.PENDING)
    # A held reply of a long-idle conversation, still waiting for its approver; and an inbound
    # message whose turn has not finished.
    person = UserFactory(tenant=people.tenant, is_deleted=True)
    conversation = ConversationFactory(tenant=people.tenant, user=person, last_activity_at=long_ago)
    held = _message_in(
        conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        delivery_status=Message.DeliveryStatus.HELD,
    )
    kept.append(
        Approval.objects.create(
            tenant=people.tenant,
            action_type="held_reply",
            conversation=conversation,
            message=held,
            status=Approval.Status.PENDING,
            created_at=long_ago,
        )
    )
    waiting = _message_in(conversation, turn_state=TurnState.PENDING)

    run = retention_apply(dry_run=False)

    assert sum(run.counts.values()) == 0
    assert Approval.objects.filter(pk__in=[a.pk for a in kept]).count() == len(kept)
    assert not _anonymised(held)()
    assert not _anonymised(waiting)()


def test_an_approval_goes_with_its_votes_history_notifications_and_grants(
    people: TenantPeople, now: datetime
) -> None:
    old = _approval(people, Approval.Status.REJECTED, ago(now, 366))
    recent = _approval(people, Approval.Status.REJECTED, ago(now, 10))
    for approval in (old, recent):
        ApprovalVote.objects.create(approval=approval, level=1, user=people.owner)
        ApprovalHistory.objects.create(approval=approval, event=ApprovalHistory.Event.REJECTED)
        Notification.objects.create(
            tenant=people.tenant, recipient=people.owner, approval=approval, title="Decide"
        )
        assign_perm("hitl.decide_approval", people.teammate, approval)

    retention_apply(dry_run=False)

    assert list(Approval.objects.all()) == [recent]
    assert [v.approval_id for v in ApprovalVote.objects.all()] == [recent.pk]
    assert [h.approval_id for h in ApprovalHistory.objects.all()] == [recent.pk]
    assert [n.approval_id for n in Notification.objects.all()] == [recent.pk]
    assert list(UserObjectPermission.objects.values_list("object_pk", flat=True)) == [
        str(recent.pk)
    ]


def test_the_access_log_trigger_refuses_early_deletes_and_allows_late_ones(
    people: TenantPeople,
) -> None:
    # The database's own clock, which the trigger reads: no frozen time here.
    real_now = timezone.now()

    def entry(days: int) -> AdminAccessLog:
        return AdminAccessLog.objects.create(
            tenant=people.tenant,
            admin_user=people.owner,
            action=AdminAccessLog.Action.REVEAL_PII,
            resource_type="conversation",
            resource_id="9",
            timestamp=real_now - timedelta(days=days),
        )

    young, old = entry(2554), entry(2556)
    with connection.cursor() as cursor:
        with pytest.raises(ProgrammingError, match="Cannot delete rows"), transaction.atomic():
            cursor.execute("DELETE FROM privacy_adminaccesslog WHERE id = %s", [young.pk])
        with pytest.raises(ProgrammingError, match="Cannot update rows"), transaction.atomic():
            cursor.execute(
                "UPDATE privacy_adminaccesslog SET justification = 'x' WHERE id = %s", [old.pk]
            )
        cursor.execute("DELETE FROM privacy_adminaccesslog WHERE id = %s", [old.pk])
        assert cursor.rowcount == 1
    assert list(AdminAccessLog.objects.all()) == [young]


def test_the_command_prints_every_line_and_a_dry_run_changes_nothing(
    people: TenantPeople, now: datetime, no_rollups: None
) -> None:
    rows = [make(people, now, ago(now, RETENTION_DAYS[name] + 1)) for name, make in MAKERS.items()]

    def line(name: str, rest: str) -> str:
        days = RETENTION_DAYS[name]
        period = f"{days:>4} days" if days else "at expiry"
        if name == "platform_event_logs.aggregated_analytics":
            return f"{name:<40}  {period}  {rest}"
        return f"{name:<40}  {period}  cutoff {ago(now, days):%Y-%m-%d %H:%M}  {rest}"

    out = StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Retention at {now:%Y-%m-%d %H:%M} UTC (dry run: nothing changed)",
        line("conversation_logs.active_users", "would anonymise 1"),
        line("conversation_logs.inactive_users", "would anonymise 1"),
        line("conversation_logs.deleted_users", "would anonymise 1"),
        line("platform_event_logs.raw_events", "would delete 1"),
        line("platform_event_logs.aggregated_analytics", "no rollup table yet: nothing to apply"),
        line("hitl_approvals.approved", "would delete 1"),
        line("hitl_approvals.rejected", "would delete 1"),
        line("hitl_approvals.expired", "would delete 1"),
        line("admin_access_logs.all", "would delete 1"),
        line("data_requests.export_payloads", "would empty 1"),
    ]
    assert not any(row.gone() for row in rows)
    out = StringIO()
    call_command("apply_retention", "--dry-run", verbosity=2, stdout=out)
    assert "    Events of the event log older than this are deleted." in out.getvalue()

    out = StringIO()
    call_command("apply_retention", stdout=out)
    done = out.getvalue().splitlines()
    assert done[0] == f"Retention at {now:%Y-%m-%d %H:%M} UTC"
    assert line("conversation_logs.deleted_users", "anonymised 1") in done
    assert line("hitl_approvals.approved", "deleted 1") in done
    assert line("data_requests.export_payloads", "emptied 1") in done
    assert all(row.gone() for row in rows)
    assert list(RetentionRun.objects.order_by("pk").values_list("dry_run", flat=True)) == [
        True,
        True,
        False,
    ]


def test_the_nightly_beat_entry_runs_the_task(people: TenantPeople) -> None:
    call_command("setup_periodic_tasks", stdout=StringIO())
    task = PeriodicTask.objects.get(name="apply retention")
    assert task.enabled and task.interval is None
    assert task.task == "privacy.retention_tasks.retention_apply_task"
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month) == (
        "30",
        "2",
        "*",
        "*",
    )
    assert str(crontab.timezone) == "UTC"
    assert task.task in celery_app.tasks  # the worker knows it by that name
    # Written again on every deploy: in place.
    call_command("setup_periodic_tasks", stdout=StringIO())
    assert PeriodicTask.objects.filter(name="apply retention").count() == 1

    run_id = retention_apply_task.apply().get()
    run = RetentionRun.objects.get(pk=run_id)
    assert not run.dry_run and run.finished_at is not None


# The runs' admin page


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_platform_superusers_read_the_runs_and_change_none(
    people: TenantPeople, now: datetime, no_rollups: None
) -> None:
    deleted_user(people, now, ago(now, 31))
    run = retention_apply(dry_run=False)
    client = _client(User.objects.create_superuser("root", password="x" * 12))

    listing = client.get(reverse("admin:privacy_retentionrun_changelist"))
    assert listing.status_code == 200
    assert "1 anonymised: conversation_logs.deleted_users" in listing.content.decode()

    change = reverse("admin:privacy_retentionrun_change", args=[run.pk])
    page = client.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "<td>conversation_logs.deleted_users</td><td>30</td><td>anonymised</td><td>1</td>"
        "<td>Messages of deleted users&#x27; conversations idle longer than this: their text is "
        "erased, the rows stay for the analytics.</td>"
    ) in html
    assert "no rollup table yet" in html
    assert 'name="_save"' not in html
    assert client.post(change, {"dry_run": "on"}).status_code == 403
    assert client.get(reverse("admin:privacy_retentionrun_add")).status_code == 403
    delete = reverse("admin:privacy_retentionrun_delete", args=[run.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RetentionRun.objects.filter(pk=run.pk, dry_run=False).exists()


@pytest.mark.parametrize("role", [COMPLIANCE_OFFICER, SUPER_ADMIN])
def test_a_tenants_staff_never_see_other_tenants_totals(people: TenantPeople, role: str) -> None:
    retention_apply(dry_run=True)
    client = _client(StaffFactory(tenant=people.tenant, roles=[role]))
    assert client.get(reverse("admin:privacy_retentionrun_changelist")).status_code == 403


def test_platform_superusers_cannot_change_runs_either(people: TenantPeople) -> None:
    run = retention_apply(dry_run=True)
    client = _client(User.objects.create_superuser("root2", password="x" * 12))
    assert client.get(reverse("admin:privacy_retentionrun_changelist")).status_code == 200
    delete = reverse("admin:privacy_retentionrun_delete", args=[run.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RetentionRun.objects.filter(pk=run.pk).exists()


def test_support_admins_do_not_see_the_runs(people: TenantPeople) -> None:
    response = _client(people.teammate).get(reverse("admin:privacy_retentionrun_changelist"))
    assert response.status_code == 403
