"""Render and send N daily briefs through the real dispatch, to anymail's test backend.

    .venv/bin/python bench/bench_email.py [--briefs 10000] [--scale 1]

Seeds the demo into a throwaway SQLite database (or uses DATABASE_URL if set), adds --briefs
subscribed people spread over its two tenants, all due now, and, with Celery eager, runs the
scheduler's dispatch: it hands out the briefs in batches of EMAIL_BRIEF_BATCH and each batch
reads its tenant's data once, then composes, renders (template + css-inline), sends and records
every brief. --scale multiplies acme's ad campaigns (each with 60 days of rows) to show that the
queries per brief do not grow with the data.

Printed: the total time and briefs per second, the queries per brief over the whole run, and a
baseline timed in the same run (one bare ORM round trip) to compare machines by.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


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


def add_people(count: int) -> None:
    from django.utils import timezone

    from accounts.models import Tenant, User
    from channels_app.email.models import EmailPreferences

    tenants = list(Tenant.objects.filter(slug__in=["acme", "globex"]).order_by("slug"))
    due = timezone.now() - timedelta(minutes=1)
    users = [
        User(
            tenant=tenants[n % len(tenants)],
            username=f"reader{n}",
            email=f"reader{n}@bench.example",
            first_name=f"Reader {n}",
            password="!",  # noqa: S106 - unusable: nobody logs in as them
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    created = User.objects.filter(username__startswith="reader")
    formats = ["full", "summary", "bullet_points"]
    EmailPreferences.objects.bulk_create(
        [
            EmailPreferences(
                user=user,
                time_zone="UTC",
                digest_format=formats[user.pk % 3],
                next_send_at=due,
            )
            for user in created
        ],
        batch_size=1000,
    )
    # The demo's own people are due too only if they already were: leave them as they are.


def scale_campaigns(factor: int) -> None:
    from django.utils import timezone

    from accounts.models import Tenant
    from agents.models import Campaign, CampaignDay

    if factor <= 1:
        return
    acme = Tenant.objects.get(slug="acme")
    existing = Campaign.objects.filter(tenant=acme).count()
    today = timezone.localdate()
    for n in range(existing * (factor - 1)):
        campaign = Campaign.objects.create(
            tenant=acme, platform="meta", name=f"Bench {n}", daily_budget=Decimal("50.00")
        )
        CampaignDay.objects.bulk_create(
            CampaignDay(
                campaign=campaign,
                date=today - timedelta(days=d),
                spend=Decimal("40.00"),
                impressions=4000 + d,
                clicks=80,
                conversions=3,
                revenue=Decimal("120.00") + d,
            )
            for d in range(1, 61)
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--briefs", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.local import django_start

    django_start(
        # anymail's test backend: no network, every message kept
        EMAIL_ESP="test",
        EMAIL_BACKUP_ESP="",
        CELERY_TASK_ALWAYS_EAGER="True",  # the batches run in this process
        LOG_LEVEL="WARNING",
    )
    from anymail.signals import post_send
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from channels_app.email.models import BriefRun, EmailSend
    from channels_app.email.sending import briefs_dispatch

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    scale_campaigns(args.scale)
    add_people(args.briefs)

    # anymail's test backend keeps every message in mail.outbox: let them go once sent.
    def forget(sender: Any, message: Any, **kwargs: Any) -> None:
        if len(mail.outbox) > 100:
            mail.outbox.clear()

    post_send.connect(forget, weak=False)
    mail.outbox = []

    reverse("admin:index")  # import the URLconf (and what it imports) before the clock starts
    baseline = baseline_rate()
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        runs = briefs_dispatch(now=timezone.now())
    elapsed = time.perf_counter() - started

    sent = EmailSend.objects.filter(status="sent", user__username__startswith="reader").count()
    runs = list(BriefRun.objects.filter(pk__in=[r.pk for r in runs]))
    due = sum(r.due for r in runs)
    batch = settings.EMAIL_BRIEF_BATCH
    counts = {name: sum(getattr(r, name) for r in runs) for name in ("sent", "skipped", "failed")}
    print(f"database: {connection.vendor}; campaigns x{args.scale}; batch {batch}")
    print(f"baseline: bare ORM round trip {baseline:10.1f} /s")
    print(f"briefs due {due}, {counts} (bench readers sent: {sent})")
    print(
        f"total {elapsed:8.1f} s   {due / elapsed:8.1f} briefs/s   "
        f"{elapsed / due * 1000:6.1f} ms a brief ({baseline * elapsed / due:5.1f} round trips)"
    )
    print(f"queries {counter.count}   {counter.count / due:6.2f} per brief")


if __name__ == "__main__":
    main()
