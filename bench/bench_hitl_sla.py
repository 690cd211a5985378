"""The SLA sweep (`monitor_hitl_sla`) with 100,000 open approvals of which 1,000 are due.

    .venv/bin/python bench/bench_hitl_sla.py [--open 100000] [--due 1000]

Uses a throwaway SQLite database, or DATABASE_URL if set (a database this script may fill).
The baseline is the same sweep over the same 1,000 due approvals with nothing else open,
timed in the same run: a ratio near 1 says the sweep's work follows what is due, not how many
approvals wait. Each due approval is one hour from its deadline, so the sweep reminds its two
approvers: each gets one digest for the sweep (a console notification and an email to Django's
in-memory outbox) listing all of them.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.local import django_start

    django_start()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from accounts.roles import MARKETING_MANAGER
    from accounts.services import tenant_create, user_create
    from hitl.models import Approval, ApprovalHistory, Notification
    from hitl.sla import sla_sweep

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    tenant = tenant_create(name="Bench", slug=f"bench-{int(time.time())}")
    workflow = tenant.hitl_workflows.get(name="General review")
    approvers = [
        user_create(
            tenant=tenant,
            username=f"{tenant.slug}-manager{i}",
            password=None,
            email=f"manager{i}@bench.example",
            roles=[MARKETING_MANAGER],
        )
        for i in range(2)
    ]
    now = timezone.now()

    def approvals(count: int, deadline_in: timedelta) -> list[Approval]:
        deadline = now + deadline_in
        return [
            Approval(
                tenant=tenant,
                action_type="content_publish",
                title=f"Publish post {i}",
                status="pending",
                workflow=workflow,
                risk_score=40,
                risk_level="medium",
                level_started_at=now,
                sla_deadline=deadline,
                escalate_at=now + timedelta(hours=24),
                expires_at=now + timedelta(hours=72),
                next_check_at=deadline - timedelta(hours=1),
                created_at=now,
            )
            for i in range(count)
        ]

    Approval.objects.bulk_create(approvals(args.due, timedelta(minutes=50)), batch_size=BATCH)
    due = Approval.objects.filter(tenant=tenant, next_check_at__lte=now)
    for approver in approvers:
        assign_perm("hitl.decide_approval", approver, due)
    due_ids = list(due.values_list("pk", flat=True))

    def timed_sweep() -> tuple[float, int, int]:
        mail.outbox = []
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            result = sla_sweep(now=now, batch=args.due * 2)
            elapsed = time.perf_counter() - started
        assert result.reminded == args.due, result
        assert sorted(message.to[0] for message in mail.outbox) == sorted(
            approver.email for approver in approvers
        ), [message.to for message in mail.outbox]
        return elapsed, result.checked, queries[0]

    def reset() -> None:
        Approval.objects.filter(pk__in=due_ids).update(
            reminded_at=None, next_check_at=now - timedelta(minutes=10)
        )
        ApprovalHistory.objects.filter(approval_id__in=due_ids).delete()
        Notification.objects.filter(recipient__in=approvers).delete()

    # A first sweep, untimed, loads what a long-running worker has loaded once: the templates,
    # the URLconf (the links), the content types.
    reset()
    timed_sweep()
    reset()
    baseline, checked, base_queries = timed_sweep()
    reset()
    for start in range(0, args.open - args.due, BATCH):
        count = min(BATCH, args.open - args.due - start)
        Approval.objects.bulk_create(approvals(count, timedelta(hours=20)), batch_size=BATCH)
    if connection.vendor == "postgresql":
        # What autovacuum would have done after a load like this one.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    waiting = Approval.objects.filter(tenant=tenant, status="pending").count()
    loaded, checked_loaded, loaded_queries = timed_sweep()

    engine = connection.vendor
    print(f"database: {engine}; open approvals: {waiting:,}; due: {args.due:,}")
    print(
        f"baseline: sweep of {checked:,} due, nothing else open: {baseline:.2f} s "
        f"({baseline / checked * 1000:.2f} ms each, {base_queries} queries in all)"
    )
    print(
        f"sweep of {checked_loaded:,} due among {waiting:,} open: {loaded:.2f} s "
        f"({loaded / checked_loaded * 1000:.2f} ms each, "
        f"{loaded_queries} queries in all)"
    )
    print(f"ratio to baseline: {loaded / baseline:.2f}")
    started = time.perf_counter()
    list(Approval.objects.filter(status="pending").values_list("pk", "sla_deadline"))
    scan = time.perf_counter() - started
    print(f"for scale, reading every open approval's deadline once: {scan:.2f} s")


if __name__ == "__main__":
    main()
