"""Measure the built-in agents on the labelled requests of agents/evaluation/requests.jsonl.

Every request goes to its agent through the built-in backend, on one tenant's data (the demo's
acme by default: `make run` seeds it), with the conversation before it as context. Printed,
overall and per agent: intent accuracy, slot exact-match (a request counts when every slot it
labels matches), action accuracy, figure accuracy, the unrequested-action rate (answers carrying
a requested action nobody asked for) and the actions on off-topic requests. The labels and how
they are compared: agents/evaluation/run.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Tenant
from agents.evaluation.run import (
    AGENTS,
    REQUESTS_PATH,
    EvaluationError,
    LabelError,
    Report,
    evaluate,
    load_cases,
)

# (Report attribute, label): accuracies first, then the two rates that must stay at zero.
COLUMNS = (
    ("intent", "intent"),
    ("slots", "slots"),
    ("actions", "actions"),
    ("figures", "figures"),
    ("unrequested", "unrequested"),
    ("off_topic_actions", "off-topic acts"),
)
WIDTH = 18


class Command(BaseCommand):
    help = (
        "Run the labelled requests through the built-in agents on a tenant's data and print "
        "intent, slot, action and figure accuracy, overall and per agent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="acme", help="tenant slug (default: acme)")
        parser.add_argument(
            "--path", type=Path, default=REQUESTS_PATH, help="labelled requests (JSONL)"
        )
        parser.add_argument("--verbose", action="store_true", help="list every miss")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["tenant"]
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(
                f"No tenant {slug!r}: seed the demo data first (`make run` or "
                "`manage.py seed_demo`), or pass --tenant."
            )
        path: Path = options["path"]
        try:
            cases = load_cases(path)
            report = evaluate(tenant, cases, today=timezone.localdate())
        except (OSError, LabelError, EvaluationError) as exc:
            raise CommandError(str(exc)) from exc
        self.report(report, path, slug, verbose=options["verbose"])

    def report(self, report: Report, path: Path, slug: str, *, verbose: bool) -> None:
        write = self.stdout.write
        write(f"Agent evaluation on {path.name}, tenant {slug}: {len(report.outcomes)} requests")
        write(f"Intent accuracy:            {report.intent}")
        write(f"Slot exact-match:           {report.slots}")
        write(f"Action accuracy:            {report.actions}")
        write(f"Figure accuracy:            {report.figures}")
        write(f"Unrequested-action rate:    {report.unrequested}")
        write(f"Actions on off-topic lines: {report.off_topic_actions}")
        write("Per agent:")
        write(" " * 10 + "".join(f"{label:>{WIDTH}}" for _, label in COLUMNS))
        for agent in AGENTS:
            part = report.of(agent)
            cells = "".join(f"{getattr(part, attribute)!s:>{WIDTH}}" for attribute, _ in COLUMNS)
            write(f"{agent:<10}{cells}")
        misses = report.misses
        write(f"Requests with a miss: {len(misses)}")
        if verbose:
            for outcome in misses:
                case = outcome.case
                said = f" (after {len(case.history)} messages)" if case.history else ""
                write(f"  line {case.line} [{case.agent}] {case.text!r}{said}")
                for miss in outcome.misses():
                    write(f"      {miss}")
                write(f"      answer: {outcome.answer[:160]!r}")
