"""The operations dashboard (the admin index) and its API at 100,000 and at 1,000,000 messages,
against a bare view timed in the same run.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_dashboard.py \
        [--first 100000] [--messages 1000000] [--rounds 15]

Needs PostgreSQL (DATABASE_URL: a database this script may fill). One tenant gets 90 days of
conversations, ten messages each (the person's and the agent's in turn, every reply timed), an
agent run per conversation and an approval per 50, written with INSERT ... SELECT over
generate_series, not the ORM. Its days are rolled up (the nightly job's work, timed), then each
page is asked --rounds times through Django's test client, in process:

- baseline: a bare Django view answering a few bytes (bench.urls' /bench/bare, a GET here);
- the admin index without the dashboard (the same user's admin chrome: sidebar, app list);
- the dashboard at 7 and 90 days, and GET /api/v1/admin/analytics/dashboard?period=90.

Then the tenant grows to --messages (the same 90 days, ten times the conversations), its days
are rolled up again and everything is timed again. Flat is the goal: the dashboard reads the
rollups (a fixed number of rows per day) and computes only today live, from today's rows. Today
holds about a ninetieth of the messages, so that part grows with the daily volume, not with
the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAYS = 90
PER_CONVERSATION = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, default=100_000, help="messages, first round")
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages, second")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of today's live queries"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.local import django_start

    # Static files are served from the finders here, as in `make run`.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)

    django_start(
        DJANGO_SETTINGS_MODULE="bench.settings", ALLOWED_HOSTS="testserver,localhost,127.0.0.1"
    )
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import clear_url_caches, path

    from accounts.models import SubscriptionTier
    from accounts.roles import SUPER_ADMIN
    from accounts.services import tenant_create, user_create
    from bench import urls as bench_urls
    from monitoring import dashboard
    from monitoring.analytics.rollups import rollups_backfill

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures PostgreSQL.")
    call_command("migrate", verbosity=0)

    def bare(request: Any) -> HttpResponse:
        return HttpResponse("ok")

    bench_urls.urlpatterns.insert(0, path("bench/bare-get", bare))
    clear_url_caches()

    slug = f"bench-{int(time.time())}"
    tenant = tenant_create(name="Bench", slug=slug, tier=SubscriptionTier.BUSINESS)
    admin = user_create(tenant=tenant, username=f"{slug}-admin", password=None, roles=[SUPER_ADMIN])
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    people = people_make(tenant, count=500)
    client = Client()
    client.force_login(admin)

    def timed(url: str) -> tuple[float, float, int]:
        client.get(url)  # templates compiled, connections open
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert client.get(url).status_code == 200, url
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        return min(times), statistics.median(times), queries[0]

    pages: dict[str, Callable[[], tuple[float, float, int]]] = {
        "baseline: bare view": lambda: timed("/bench/bare-get"),
        "admin index, no dashboard": lambda: _without_dashboard(
            dashboard, lambda: timed("/admin/")
        ),
        "dashboard, 7 days": lambda: timed("/admin/?period=7"),
        "dashboard, 90 days": lambda: timed("/admin/?period=90"),
        "API dashboard, 90 days": lambda: timed("/api/v1/admin/analytics/dashboard?period=90"),
    }
    results: dict[int, dict[str, tuple[float, float, int]]] = {}
    loaded = 0
    for target in (args.first, args.messages):
        started = time.perf_counter()
        loaded += conversations_load(
            tenant, people, conversations=(target - loaded) // PER_CONVERSATION
        )
        load_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        started = time.perf_counter()
        rolled = rollups_backfill(days=DAYS, refresh_days=DAYS).days
        rollup_s = time.perf_counter() - started
        print(
            f"{loaded:,} messages (loaded in {load_s:.0f} s); {rolled} days rolled up in "
            f"{rollup_s:.1f} s ({rollup_s / rolled * 1000:.0f} ms a day)"
        )
        results[loaded] = {name: measure() for name, measure in pages.items()}
        if args.explain:
            _explain(tenant)

    first, second = results
    print(f"\n{'':28} {first:>11,} msgs {second:>11,} msgs   ratio")
    print(f"{'':28} {'best/median ms (queries)':>22} {'best/median ms (queries)':>22}")
    for name in pages:
        a, b = results[first][name], results[second][name]
        print(
            f"{name:28} {a[0]:>7.1f}/{a[1]:>6.1f} ({a[2]:>2}) "
            f"{b[0]:>8.1f}/{b[1]:>6.1f} ({b[2]:>2})   {b[1] / a[1]:.2f}"
        )


def _explain(tenant: Any) -> None:
    """EXPLAIN ANALYZE of each query the dashboard's live part (today, and the last minutes)
    makes."""
    from django.db import connection

    from monitoring.analytics.figures import day_figures, local_today
    from monitoring.analytics.selectors import analytics_live

    statements: list[tuple[str, Any]] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        day_figures(tenant=tenant, day=local_today(tenant))
        analytics_live(tenant=tenant)
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            print(f"\n{sql[:120]}...\n  " + "\n  ".join(plan))


def _without_dashboard(module: Any, measure: Callable[[], Any]) -> Any:
    kept = module.dashboard_callback
    module.dashboard_callback = lambda request, context: context
    try:
        return measure()
    finally:
        module.dashboard_callback = kept


def people_make(tenant: Any, *, count: int) -> list[int]:
    from accounts.models import User

    users = User.objects.bulk_create(
        User(tenant=tenant, username=f"{tenant.slug}-person{n}") for n in range(count)
    )
    return [user.pk for user in users]


def _columns(model: Any, given: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every column of the model: `given` SQL where named, else the field's default (or NULL),
    so that a field added later does not break the insert."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(field.column)
        default = field.get_default()
        if field.column in given:
            values.append(given[field.column])
        elif default is None:
            if not field.null:
                raise SystemExit(f"bench_dashboard: say what {model.__name__}.{field.name} holds")
            values.append("NULL")
        elif isinstance(default, bool):
            values.append("true" if default else "false")
        elif isinstance(default, int | float | Decimal):
            values.append(str(default))
        elif isinstance(default, dict | list):
            values.append("'{}'::jsonb" if isinstance(default, dict) else "'[]'::jsonb")
        elif hasattr(default, "isoformat"):
            values.append("now()")
        else:
            values.append("'" + str(default).replace("'", "''") + "'")
    return names, values


def _insert(cursor: Any, names: list[str], values: list[str], *, into: Any, source: str) -> None:
    # Built from this script's own SQL and the models' columns: nothing from outside.
    columns, selected = ", ".join(names), ", ".join(values)
    sql = f"INSERT INTO {into._meta.db_table} ({columns}) SELECT {selected} FROM {source}"  # noqa: S608
    cursor.execute(sql)


def conversations_load(tenant: Any, people: list[int], *, conversations: int) -> int:
    """`conversations` conversations of ten messages each, spread over the last 90 days: the
    messages loaded."""
    from django.db import connection

    from agents.models import AgentRun
    from channels_app.models import Conversation, Message
    from hitl.models import Approval

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM channels_app_conversation")
        (before,) = cursor.fetchone()
        spread = DAYS * 86400 - 3600
        # g: a number per conversation; h: a scrambled one, for the figures that vary.
        names, values = _columns(
            Conversation,
            {
                "tenant_id": str(tenant.pk),
                "user_id": f"(ARRAY{people})[1 + g % {len(people)}]",
                "channel": "(ARRAY['whatsapp','chat','whatsapp','email'])[1 + g % 4]",
                "current_agent_type": "(ARRAY['paid_ads_optimization','seo_optimization',"
                "'content_generation','audience_intelligence'])[1 + h % 4]",
                "started_at": f"now() - make_interval(secs => 600 + (h % {spread}))",
                "last_activity_at": f"now() - make_interval(secs => 600 + (h % {spread})) "
                f"+ make_interval(secs => {PER_CONVERSATION * 20})",
                "message_count": str(PER_CONVERSATION),
                "status": "CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'active' END",
                "escalated_at": "CASE WHEN g % 17 = 0 THEN now() - make_interval(secs => "
                f"500 + (h % {spread})) END",
                "closed_at": "CASE WHEN g % 3 = 0 THEN now() - make_interval(secs => "
                f"300 + (h % {spread})) END",
                "csat_score": "CASE WHEN g % 5 = 0 THEN 1 + h % 5 END",
                "csat_rated_at": "CASE WHEN g % 5 = 0 THEN now() - make_interval(secs => "
                f"600 + (h % {spread})) + make_interval(secs => {PER_CONVERSATION * 20}) END",
            },
        )
        _insert(
            cursor,
            names,
            values,
            into=Conversation,
            source=f"generate_series({before + 1}, {before + conversations}) AS g "
            "CROSS JOIN LATERAL (VALUES ((g * 2654435761) % 4294967291)) AS scrambled(h)",
        )
        names, values = _columns(
            Message,
            {
                "conversation_id": "c.id",
                "channel": "c.channel",
                "direction": "CASE WHEN k % 2 = 1 THEN 'inbound' ELSE 'outbound' END",
                "sender_kind": "CASE WHEN k % 2 = 1 THEN 'user' ELSE 'agent' END",
                "body": "''",
                "delivery_status": "CASE WHEN k % 2 = 1 THEN 'received' ELSE 'delivered' END",
                "agent_type": "CASE WHEN k % 2 = 0 THEN c.current_agent_type ELSE '' END",
                "confidence": "CASE WHEN k % 2 = 0 THEN 0.5 + (c.id % 50) / 100.0 END",
                "response_time_ms": "CASE WHEN k % 2 = 0 THEN 300 + (c.id * 7 + k * 131) % 4000 "
                "END",
                "created_at": "c.started_at + make_interval(secs => k * 20)",
                "turn_state": "CASE WHEN k % 2 = 1 THEN 'done' ELSE '' END",
            },
        )
        _insert(
            cursor,
            names,
            values,
            into=Message,
            source=f"channels_app_conversation AS c CROSS JOIN generate_series(1, "
            f"{PER_CONVERSATION}) AS k WHERE c.tenant_id = {tenant.pk} AND c.id > {before}",
        )
        names, values = _columns(
            AgentRun,
            {
                "tenant_id": "c.tenant_id",
                "agent_type": "c.current_agent_type",
                "backend": "'builtin'",
                "conversation_id": "c.id",
                "status": "CASE WHEN c.id % 40 = 0 THEN 'error' ELSE 'ok' END",
                "confidence": "0.5 + (c.id % 50) / 100.0",
                "latency_ms": "300 + c.id % 4000",
                "tokens_in": "200 + c.id % 300",
                "tokens_out": "100 + c.id % 200",
                "cost_usd": "0.0004 + (c.id % 10) / 10000.0",
                "needs_review": "c.id % 9 = 0",
                "created_at": "c.started_at + make_interval(secs => 19)",
            },
        )
        _insert(
            cursor,
            names,
            values,
            into=AgentRun,
            source=f"channels_app_conversation AS c WHERE c.tenant_id = {tenant.pk} "
            f"AND c.id > {before}",
        )
        names, values = _columns(
            Approval,
            {
                "tenant_id": "c.tenant_id",
                "requested_by_agent": "c.current_agent_type",
                "action_type": "'budget_increase'",
                "conversation_id": "c.id",
                "status": "(ARRAY['approved','approved','rejected','expired','pending'])"
                "[1 + c.id % 5]",
                "sla_deadline": "c.started_at + interval '4 hours'",
                "decided_at": "CASE WHEN c.id % 5 < 4 THEN c.started_at + make_interval("
                "secs => 600 + (c.id % 20000)) END",
                "created_at": "c.started_at + make_interval(secs => 30)",
            },
        )
        _insert(
            cursor,
            names,
            values,
            into=Approval,
            source=f"channels_app_conversation AS c WHERE c.tenant_id = {tenant.pk} "
            f"AND c.id > {before} AND c.id % 50 = 0",
        )
    return conversations * PER_CONVERSATION


if __name__ == "__main__":
    main()
