"""channels_app's retention policies (the PRD's table), registered with privacy.retention.

Conversation logs. A conversation's age is its `last_activity_at`; its person is in exactly one
of three groups, and the group gives the days (privacy.retention.RETENTION_DAYS):

- deleted (30 days): the person was erased (`is_deleted`).
- inactive (90 days): not erased, and either their account is deactivated (`is_active` False)
  or nothing happened in any of their conversations, on any channel, for those same 90 days.
  The silence is measured with the PRD's own figure for inactive people: with a longer one, a
  person who went quiet would keep their conversations past 90 days until it ran out, and
  the PRD's 90 would never apply to anyone who simply stopped writing.
- active (365 days): everyone else.

Past retention a conversation is anonymised, not deleted: what its messages said goes (bodies,
media and agents' readings in the metadata, provider ids that find the provider's copy, the
provider's error text), and so do the bookmarks on them; the rows stay, with their direction,
sender, agent, confidence, timings and delivery status, so that counts and rates by channel,
agent and day survive for the analytics. A message still waiting for its turn or for an open
approval is left until that is over. An anonymised message carries `anonymised_at` in its
metadata, so that no run touches it again.

The raw event log (90 days) is deleted: its rows hold no text, and the analytics that outlive
them will be the rollups (aggregated analytics, 730 days), which monitoring registers with
their table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from channels_app.events import Event
from channels_app.models import Bookmark, Conversation, Message, TurnState
from channels_app.search_index import messages_unindex
from hitl.models import OPEN_STATUSES
from privacy.retention import RETENTION_DAYS, retention_register

ANONYMISED = "anonymised_at"
# What a message's metadata keeps: what kind of message it was, never what it said.
KEPT_METADATA = frozenset({"system", "run_id", "approval_id", "approval_status", "error"})
INACTIVE_AFTER_DAYS = RETENTION_DAYS["conversation_logs.inactive_users"]


def _messages_past(cutoff: datetime) -> QuerySet[Message]:
    return (
        Message.objects.filter(conversation__last_activity_at__lt=cutoff)
        .exclude(metadata__has_key=ANONYMISED)
        .exclude(turn_state__in=[TurnState.PENDING, TurnState.CLAIMED])
        .exclude(approvals__status__in=OPEN_STATUSES)
    )


def _recently_active(now: datetime) -> Exists:
    """The message's person had something happen in a conversation lately."""
    return Exists(
        Conversation.objects.filter(
            user=OuterRef("conversation__user"),
            last_activity_at__gte=now - timedelta(days=INACTIVE_AFTER_DAYS),
        )
    )


def _active_users(*, now: datetime, cutoff: datetime) -> QuerySet[Message]:
    return _messages_past(cutoff).filter(
        _recently_active(now),
        conversation__user__is_deleted=False,
        conversation__user__is_active=True,
    )


def _inactive_users(*, now: datetime, cutoff: datetime) -> QuerySet[Message]:
    return _messages_past(cutoff).filter(
        Q(conversation__user__is_active=False) | ~_recently_active(now),
        conversation__user__is_deleted=False,
    )


def _deleted_users(*, now: datetime, cutoff: datetime) -> QuerySet[Message]:
    return _messages_past(cutoff).filter(conversation__user__is_deleted=True)


def messages_anonymise(*, pks: list[Any], now: datetime) -> int:
    messages = list(Message.objects.filter(pk__in=pks).only("pk", "metadata"))
    for message in messages:
        message.body = ""
        message.metadata = {
            **{key: value for key, value in message.metadata.items() if key in KEPT_METADATA},
            ANONYMISED: now.isoformat(),
        }
        message.provider_id = None
        message.error_message = ""
    Message.objects.bulk_update(messages, ["body", "metadata", "provider_id", "error_message"])
    Bookmark.objects.filter(message_id__in=pks).delete()
    messages_unindex(Message.objects.filter(pk__in=pks))  # no longer searchable
    return len(messages)


def _events_expired(*, now: datetime, cutoff: datetime) -> QuerySet[Event]:
    return Event.objects.filter(created_at__lt=cutoff)


def _events_delete(*, pks: list[Any], now: datetime) -> int:
    deleted, _ = Event.objects.filter(pk__in=pks).delete()
    return deleted


for group, expired in (
    ("active_users", _active_users),
    ("inactive_users", _inactive_users),
    ("deleted_users", _deleted_users),
):
    retention_register(
        name=f"conversation_logs.{group}",
        action="anonymise",
        description=f"Messages of {group.replace('_', ' ')}' conversations idle longer than "
        "this: their text is erased, the rows stay for the analytics.",
        expired=expired,
        remove=messages_anonymise,
    )
retention_register(
    name="platform_event_logs.raw_events",
    action="delete",
    description="Events of the event log older than this are deleted.",
    expired=_events_expired,
    remove=_events_delete,
)
