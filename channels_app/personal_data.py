"""What channels_app holds about a person, registered with privacy's registry (export, erasure).

A conversation is exported with its messages, every channel alike. Erased, it keeps its rows:
the conversation (channel, agent, status, times, count) and each message (direction, sender,
agent, delivery status, timestamps, response time), so every count and response time the
console shows is the same after as before; what anyone wrote and what a provider said about the
person's address go.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from channels_app.events import Event
from channels_app.models import (
    Bookmark,
    Conversation,
    EmailEvent,
    EmailPreferences,
    EmailSend,
    Message,
)
from channels_app.search_index import messages_unindex
from privacy.erasure import audit_trail_scrub
from privacy.registry import (
    ERASED,
    EXPORT_CHUNK,
    erase_delete,
    erase_keep,
    export_values,
    personal_data_register,
)

CONVERSATION_FIELDS = (
    "id",
    "channel",
    "current_agent_type",
    "status",
    "started_at",
    "last_activity_at",
    "message_count",
    "csat_score",
    "csat_rated_at",
)
MESSAGE_FIELDS = (
    "id",
    "conversation_id",
    "direction",
    "sender_kind",
    "body",
    "agent_type",
    "delivery_status",
    "metadata",
    "created_at",
)
# Message metadata that is the person's or quotes them: the media they sent (links to their
# photos and files), the actions proposed from what they asked. The rest (flags, counts, ids
# of approvals and staff) stays.
PERSONAL_METADATA = ("media", "media_urls", "actions")


def conversations_export(conversations: QuerySet[Any]) -> list[dict[str, Any]]:
    """Each conversation with its messages, in two streamed queries."""
    messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for message in (
        Message.objects.filter(conversation__in=conversations.values("pk"))
        .order_by("conversation_id", "created_at", "id")
        .values(*MESSAGE_FIELDS)
        .iterator(chunk_size=EXPORT_CHUNK)
    ):
        messages[message.pop("conversation_id")].append(message)
    return [
        {**conversation, "messages": messages.get(conversation["id"], [])}
        for conversation in conversations.order_by("started_at", "id").values(*CONVERSATION_FIELDS)
    ]


def conversations_erase(conversations: QuerySet[Any]) -> int:
    messages = Message.objects.filter(conversation__in=conversations.values("pk"))
    audit_trail_scrub(Message, messages)
    # One UPDATE for every body: the placeholder is encrypted once, like any other body.
    erased = messages.update(body=ERASED, error_message="")
    with_personal_metadata = list(
        messages.filter(metadata__has_any_keys=PERSONAL_METADATA).only("pk", "metadata")
    )
    for message in with_personal_metadata:
        message.metadata = {
            key: value for key, value in message.metadata.items() if key not in PERSONAL_METADATA
        }
    Message.objects.bulk_update(with_personal_metadata, ["metadata"], batch_size=500)
    # The search index's tokens are keyed hashes of the words, numbers and emails that were in
    # the bodies: a search for the person's number would still find these messages.
    messages_unindex(messages)
    return erased


def email_sends_erase(sends: QuerySet[Any]) -> int:
    # A provider's error message may quote the address; the subject may name the person.
    return sends.update(to_email="", to_hash="", subject="", error_message="")


personal_data_register(
    Conversation,
    subject="user",
    section="conversations",
    export=conversations_export,
    erase=conversations_erase,
)
personal_data_register(
    Bookmark,
    subject="user",
    section="bookmarks",
    export=export_values("message_id", "created_at"),
    erase=erase_delete,
)
personal_data_register(
    EmailPreferences,
    subject="user",
    section="email_preferences",
    export=export_values(
        "enabled",
        "delivery_time",
        "time_zone",
        "frequency",
        "weekday",
        "custom_days",
        "sections",
        "min_priority",
        "digest_format",
        "email",
        "disabled_reason",
        "disabled_at",
        "updated_at",
    ),
    # With the address and the schedule gone, no brief is ever due for them again.
    erase=erase_delete,
)
personal_data_register(
    EmailSend,
    subject="user",
    section="email_sends",
    export=export_values(
        "kind",
        "template",
        "brief_date",
        "to_email",
        "subject",
        "status",
        "created_at",
        "sent_at",
        "delivered_at",
        "opened_at",
        "clicked_at",
        "bounced_at",
        "complained_at",
        "unsubscribed_at",
        "open_count",
        "click_count",
    ),
    erase=email_sends_erase,
)
personal_data_register(
    EmailEvent,
    subject="send__user",
    section="email_events",
    export=export_values("send_id", "esp", "event_type", "occurred_at", "data"),
    # Reason codes, never addresses (EmailEvent.data): the delivery figures count them.
    erase=erase_keep,
)
personal_data_register(
    Event,
    subject="conversation__user",
    section="events",
    export=export_values(
        "conversation_id",
        "message_id",
        "kind",
        "channel",
        "agent_type",
        "duration_ms",
        "created_at",
    ),
    # Ids, counts, timings and statuses only (events.py): the dashboards are read from them.
    erase=erase_keep,
)
