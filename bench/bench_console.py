"""The console's conversation list and search at 10,000 then 100,000 conversations (100,000
then 1,000,000 messages), against a bare view timed in the same run.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_console.py \
        [--first 100000] [--messages 1000000] [--rounds 20]

Needs PostgreSQL (DATABASE_URL: a database this script may fill). The conversations and
messages are bench_dashboard's (INSERT ... SELECT over generate_series); each message then gets
eight search tokens (keyed HMACs of words, as channels_app/search_index.py computes them) drawn
from a 5,000-word vocabulary skewed like language (word 1 in about one message in six, word
4,000 in a few hundred), and one conversation a phone number. Each page is asked --rounds times
through Django's test client, in process, as a support admin:

- baseline: a bare Django view;
- GET /api/v1/admin/conversations (25 and 100 a page: the query count must not grow);
- the same with q= a common word, two words, a rare word, a phone number;
- POST /api/v1/admin/conversations/search; the admin's list, plain and searched.

The goal: p95 at or under 300 ms at 1,000,000 messages, and a query count that stays flat.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = 5000
TOKENS_PER_MESSAGE = 8
PHONE = "+14155550199"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, default=100_000, help="messages, first round")
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages, second")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.local import django_start

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    # The API's throttles would stop a benchmark's hundreds of calls a minute.
    django_start(
        DJANGO_SETTINGS_MODULE="bench.settings",
        ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        THROTTLE_USER_RATE="1000000/min",
        THROTTLE_TENANT_RATES="business=1000000/min",
    )
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import clear_url_caches, path

    from accounts.models import SubscriptionTier
    from accounts.roles import SUPPORT_ADMIN
    from accounts.services import tenant_create, user_create
    from bench import urls as bench_urls
    from bench.bench_dashboard import PER_CONVERSATION, conversations_load, people_make

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures PostgreSQL.")
    call_command("migrate", verbosity=0)

    def bare(request: Any) -> HttpResponse:
        return HttpResponse("ok")

    bench_urls.urlpatterns.insert(0, path("bench/bare-get", bare))
    clear_url_caches()

    slug = f"console-{int(time.time())}"
    tenant = tenant_create(name="Console", slug=slug, tier=SubscriptionTier.BUSINESS)
    support = user_create(
        tenant=tenant, username=f"{slug}-support", password=None, roles=[SUPPORT_ADMIN]
    )
    support.is_staff = True
    support.save(update_fields=["is_staff"])
    people = people_make(tenant, count=500)
    client = Client()
    client.force_login(support)

    def timed(method: str, url: str, body: Any = None) -> tuple[float, float, int]:
        def call() -> Any:
            if method == "POST":
                return client.post(url, body, content_type="application/json")
            return client.get(url)

        call()  # templates compiled, connections open, permissions cached
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert call().status_code == 200, url
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        return statistics.median(times), p95, queries[0]

    api = "/api/v1/admin/conversations"
    pages: dict[str, Callable[[], tuple[float, float, int]]] = {
        "baseline: bare view": lambda: timed("GET", "/bench/bare-get"),
        "API list, 25 a page": lambda: timed("GET", f"{api}?page_size=25"),
        "API list, 100 a page": lambda: timed("GET", f"{api}?page_size=100"),
        "API q=common word": lambda: timed("GET", f"{api}?q=w1"),
        "API q=two words": lambda: timed("GET", f"{api}?q=w1+w2"),
        "API q=rare word": lambda: timed("GET", f"{api}?q=w4000"),
        "API q=phone number": lambda: timed("GET", f"{api}?q=%2B1+415+555+0199"),
        "API q=a phrase": lambda: timed("GET", f"{api}?q=%22w1+w3%22"),
        "API search, whatsapp": lambda: timed(
            "POST", f"{api}/search", {"query": "w3 w5", "filters": {"channel": "whatsapp"}}
        ),
        "API search, common": lambda: timed("POST", f"{api}/search", {"query": "w1"}),
        "admin list": lambda: timed("GET", "/admin/channels_app/conversation/"),
        "admin list, searched": lambda: timed("GET", "/admin/channels_app/conversation/?q=w7"),
    }
    results: dict[int, dict[str, tuple[float, float, int]]] = {}
    loaded = 0
    for target in dict.fromkeys((args.first, args.messages)):
        started = time.perf_counter()
        before = _last_message_id()
        loaded += conversations_load(
            tenant, people, conversations=(target - loaded) // PER_CONVERSATION
        )
        tokens = _tokens_load(tenant.pk, after=before)
        _bodies_write(after=before)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would: index-only scans
        print(
            f"{loaded:,} messages, {tokens:,} search tokens added "
            f"(loaded in {time.perf_counter() - started:.0f} s)"
        )
        results[loaded] = {name: measure() for name, measure in pages.items()}

    first, second = (*results, *results)[:2]
    print(f"\n{'':24} {first:>11,} msgs {second:>11,} msgs  ratio")
    print(f"{'':24} {'median/p95 ms (queries)':>22} {'median/p95 ms (queries)':>22}")
    for name in pages:
        a, b = results[first][name], results[second][name]
        print(
            f"{name:24} {a[0]:>7.1f}/{a[1]:>6.1f} ({a[2]:>2}) "
            f"{b[0]:>8.1f}/{b[1]:>6.1f} ({b[2]:>2})  {b[1] / a[1]:.2f}"
        )


def _last_message_id() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM channels_app_message")
        (last,) = cursor.fetchone()
    return int(last)


def _bodies_write(*, after: int) -> None:
    """The loader leaves bodies empty; the list decrypts each page's last messages, so they
    hold real ciphertext (one sentence, under the configured key)."""
    from django.db import connection

    from privacy.crypto import encrypt

    body = encrypt("Can you raise the w1 w3 budget? Call me on +1 415 555 0199 about w2.")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE channels_app_message SET body = %s WHERE id > %s", [body, after])


def _tokens_load(tenant_id: int, *, after: int) -> int:
    """Eight tokens per message stored after `after`, words drawn with a skew toward the
    vocabulary's first words; the first such message also gets the phone number's token."""
    from django.db import connection

    from channels_app.search_index import search_query, tokens_of

    words = [next(iter(tokens_of(f"w{n}"))) for n in range(VOCABULARY)]
    (phone,) = search_query(PHONE).tokens
    with connection.cursor() as cursor:
        # r in [0, 1) from a hash of (message, slot), independent from slot to slot, so that
        # common words meet in one message as often as chance says; r cubed skews toward the
        # common words.
        cursor.execute(
            "INSERT INTO channels_app_messagetoken (tenant_id, message_id, token) "
            "SELECT DISTINCT %s, m.id, (%s::bigint[])[1 + floor(%s * power(r, 3))::int] "
            "FROM channels_app_message AS m CROSS JOIN generate_series(1, %s) AS j "
            "CROSS JOIN LATERAL (VALUES ((hashint8(m.id * 8 + j)::bigint + 2147483648) "
            "/ 4294967296.0)) AS h(r) WHERE m.id > %s "
            "ON CONFLICT DO NOTHING",
            [tenant_id, words, VOCABULARY, TOKENS_PER_MESSAGE, after],
        )
        added = cursor.rowcount
        cursor.execute(
            "INSERT INTO channels_app_messagetoken (tenant_id, message_id, token) "
            "SELECT %s, min(id), %s FROM channels_app_message WHERE id > %s "
            "ON CONFLICT DO NOTHING",
            [tenant_id, phone, after],
        )
    return added + 1


if __name__ == "__main__":
    main()
