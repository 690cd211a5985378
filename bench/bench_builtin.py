"""Runs per second of the built-in agent backend on the demo tenant.

    .venv/bin/python bench/bench_builtin.py [--seconds 3]

Seeds the demo into a throwaway SQLite database (or uses DATABASE_URL if set), then, for each
agent, runs a typical question through the backend for a fixed time. Machines here are noisy,
so each figure is also given as a ratio to a baseline timed in the same run: one bare ORM
round trip (`Tenant.objects.filter(pk=...).exists()`). "12 round trips" reads: one answer costs
as much as twelve trivial queries.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = {
    "paid_ads_optimization": "How's my Meta campaign performing?",
    "seo_optimization": "Any SEO opportunities this month?",
    "content_generation": "Which content performed best lately?",
    "audience_intelligence": "Which segments are at risk of churning?",
}


def rate(func: Callable[[], object], seconds: float) -> float:
    func()  # warm caches and connections
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        func()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.local import django_start

    django_start()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)

    from accounts.models import Tenant
    from agents.backends.base import AgentContext
    from agents.backends.builtin import BuiltinBackend
    from agents.models import AgentInstance
    from agents.services import agent_execute

    tenant = Tenant.objects.get(slug="acme")
    backend = BuiltinBackend()
    baseline = rate(lambda: Tenant.objects.filter(pk=tenant.pk).exists(), args.seconds)
    print(f"database: {connection.vendor}, {args.seconds:.0f} s per figure")
    print(f"baseline: bare ORM round trip   {baseline:10.1f} /s")
    for agent_type, question in QUESTIONS.items():
        instance = AgentInstance.objects.select_related("agent", "tenant").get(
            tenant=tenant, agent__agent_type=agent_type
        )
        context = AgentContext(tenant=tenant, instance=instance)
        run = functools.partial(backend.run, instance.agent, question, context)
        execute = functools.partial(agent_execute, instance=instance, message=question)
        runs, executes = rate(run, args.seconds), rate(execute, args.seconds)
        print(
            f"{agent_type:24} backend.run {runs:8.1f} /s ({baseline / runs:5.1f} round trips)"
            f"   agent_execute {executes:8.1f} /s ({baseline / executes:5.1f} round trips)"
        )


if __name__ == "__main__":
    main()
