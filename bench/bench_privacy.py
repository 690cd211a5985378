"""GDPR export and erasure of one person with 10,000 messages.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_privacy.py [--messages 10000]
        [--others 4] [--conversations 100]

Uses DATABASE_URL (a database this script may fill; PostgreSQL is what the goal is set on), or a
throwaway SQLite database. Creates a tenant with the person and --others people each with as
many messages again (so every query runs among other people's rows), their conversations spread
over the three channels and three agents, each message in the search index and with an
audit-log entry (as auditlog writes one on every save), agent runs and events per reply. Then
times, for the person:

- the export as the API builds it (`personal_data_export` + JSON) and as the API serves it
  (`GET /api/v1/users/me/export-data` through Django's test client: auth, middleware);
- the erasure (`user_erase`: every registered entry, the audit trails, one transaction),
  and checks that the counts per channel and agent and the message timestamps are unchanged.

The goal: each under 10 s. The baseline is one bare ORM round trip, timed in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 2000
CHANNELS = ("whatsapp", "chat", "email")
AGENTS = ("paid_ads_optimization", "seo_optimization", "content_generation")


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def baseline_rate(seconds: float = 2.0) -> float:
    from accounts.models import Tenant

    pk = Tenant.objects.values_list("pk", flat=True).first()
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        Tenant.objects.filter(pk=pk).exists()
        count += 1
    return count / elapsed


def person_create(
    *, tenant: Any, username: str, phone: str | None, messages: int, conversations: int
) -> Any:
    """A person with `messages` messages in `conversations` conversations, half theirs and half
    the agents' replies, and what a turn leaves beside them."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from accounts.services import phone_number_add, user_create
    from agents.models import AgentRun
    from channels_app.events import Event
    from channels_app.models import Conversation, Message
    from channels_app.search_index import messages_index

    person = user_create(
        tenant=tenant,
        username=username,
        password=None,
        email=f"{username}@bench.example",
        first_name="Bench",
        last_name=username.title(),
    )
    if phone is not None:
        phone_number_add(user=person, number=phone, verified=True, primary=True)
    start = timezone.now() - timedelta(days=30)
    chats = Conversation.objects.bulk_create(
        Conversation(
            tenant=tenant,
            user=person,
            channel=CHANNELS[n % 3],
            current_agent_type=AGENTS[n % 3],
            started_at=start,
            last_activity_at=start,
            message_count=messages // conversations,
        )
        for n in range(conversations)
    )
    per_chat = messages // conversations
    rows = []
    for index, chat in enumerate(chats):
        for n in range(per_chat):
            inbound = n % 2 == 0
            rows.append(
                Message(
                    conversation=chat,
                    channel=chat.channel,
                    direction="inbound" if inbound else "outbound",
                    sender_kind="user" if inbound else "agent",
                    agent_type="" if inbound else chat.current_agent_type,
                    body=(
                        f"{username} asks, message {index}.{n}: how did my Meta campaign do "
                        "yesterday, and what should we change?"
                        if inbound
                        else f"Spend was $412 at a ROAS of 3.1, up from 2.7 ({index}.{n})."
                    ),
                    response_time_ms=None if inbound else 800 + n,
                    metadata={} if inbound else {"understood": {"intent": "performance"}},
                    created_at=start + timedelta(minutes=index * per_chat + n),
                )
            )
    Message.objects.bulk_create(rows, batch_size=BATCH)
    for start in range(0, len(rows), BATCH):
        messages_index(rows[start : start + BATCH])
    content_type = ContentType.objects.get_for_model(Message)
    LogEntry.objects.bulk_create(
        (
            LogEntry(
                content_type=content_type,
                object_pk=str(message.pk),
                object_id=message.pk,
                object_repr=str(message),
                action=LogEntry.Action.CREATE,
                changes={"body": ["None", "[redacted]"], "direction": ["None", message.direction]},
                additional_data={"tenant_id": tenant.pk},
            )
            for message in rows
        ),
        batch_size=BATCH,
    )
    replies = [message for message in rows if message.direction == "outbound"]
    AgentRun.objects.bulk_create(
        (
            AgentRun(
                tenant=tenant,
                agent_type=message.agent_type,
                backend="builtin",
                conversation=message.conversation,
                status="ok",
                latency_ms=message.response_time_ms or 0,
                created_at=message.created_at,
            )
            for message in replies
        ),
        batch_size=BATCH,
    )
    Event.objects.bulk_create(
        (
            Event(
                tenant=tenant,
                kind="reply.sent",
                conversation=message.conversation,
                message=message,
                channel=message.channel,
                agent_type=message.agent_type,
                duration_ms=message.response_time_ms,
                created_at=message.created_at,
            )
            for message in replies
        ),
        batch_size=BATCH,
    )
    return person


def analytics(tenant: Any) -> dict[str, Any]:
    from agents.models import AgentRun
    from channels_app.events import Event
    from channels_app.models import Conversation, Message

    messages = Message.objects.filter(conversation__tenant=tenant)
    return {
        "conversations": Counter(
            Conversation.objects.filter(tenant=tenant).values_list("channel", "current_agent_type")
        ),
        "messages": Counter(messages.values_list("channel", "agent_type", "direction")),
        "times": sorted(messages.values_list("created_at", "response_time_ms")),
        "runs": Counter(AgentRun.objects.filter(tenant=tenant).values_list("agent_type")),
        "events": Counter(Event.objects.filter(tenant=tenant).values_list("kind", "agent_type")),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=4)
    parser.add_argument("--conversations", type=int, default=100)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.local import django_start

    django_start()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.services import tenant_create
    from channels_app.models import Message, MessageToken
    from privacy.export import export_json, personal_data_export
    from privacy.registry import ERASED
    from privacy.services import user_erase

    call_command("migrate", verbosity=0)
    tenant = tenant_create(name="Bench", slug=f"bench-{int(time.time())}")
    started = time.perf_counter()
    person = person_create(
        tenant=tenant,
        username=f"{tenant.slug}-person",
        phone="+14155550100",
        messages=args.messages,
        conversations=args.conversations,
    )
    for n in range(args.others):
        person_create(
            tenant=tenant,
            username=f"{tenant.slug}-other{n}",
            phone=None,
            messages=args.messages,
            conversations=args.conversations,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"database: {connection.vendor}; the person: "
        f"{Message.objects.filter(conversation__user=person).count():,} messages in "
        f"{args.conversations} conversations; the tenant: "
        f"{Message.objects.filter(conversation__tenant=tenant).count():,} messages, "
        f"{MessageToken.objects.filter(tenant=tenant).count():,} search tokens "
        f"(set up in {time.perf_counter() - started:.1f} s)"
    )
    print(f"baseline: bare ORM round trip {baseline_rate():,.1f} /s")

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        payload = export_json(personal_data_export(user=person))
        export_seconds = time.perf_counter() - started
    print(
        f"export (service): {export_seconds:.2f} s, {len(payload) / 1e6:.1f} MB of JSON, "
        f"{counter.count} queries"
    )

    client = Client(SERVER_NAME="localhost")
    client.force_login(person)
    api_seconds = []
    # The first request also loads the URLconf and every API module: timed apart.
    for _ in range(2):
        started = time.perf_counter()
        response = client.get("/api/v1/users/me/export-data")
        api_seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    print(
        f"export (GET /api/v1/users/me/export-data): {api_seconds[1]:.2f} s "
        f"(first request, loading the URLconf: {api_seconds[0]:.2f} s)"
    )

    before = analytics(tenant)
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        user_erase(user=person, requested_by=None, reason="Benchmark")
        erase_seconds = time.perf_counter() - started
    print(f"erasure: {erase_seconds:.2f} s, {counter.count} queries")
    assert analytics(tenant) == before, "the analytics changed"
    bodies = set(Message.objects.filter(conversation__user=person).values_list("body", flat=True))
    assert bodies == {ERASED}, "a body survived"
    print("analytics after erasure: unchanged (conversations, messages, timestamps, runs, events)")
    goal = "met" if max(export_seconds, *api_seconds, erase_seconds) < 10 else "MISSED"
    print(f"goal (each under 10 s): {goal}")


if __name__ == "__main__":
    main()
