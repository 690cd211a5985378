"""Apply the PRD's retention table now (the nightly beat task does the same), or with
--dry-run count what it would do and change nothing. One line per line of the table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from privacy.retention import (
    DEFAULT_BATCH_SIZE,
    NOT_YET_APPLIED,
    PAST_TENSE,
    RETENTION_DAYS,
    retention_apply,
    retention_policies,
)


class Command(BaseCommand):
    help = "Remove or anonymise what is past retention (the PRD's table)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; change nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        now = timezone.now()
        run = retention_apply(dry_run=dry_run, now=now, batch_size=options["batch_size"])
        policies = {policy.name: policy for policy in retention_policies()}
        self.stdout.write(
            f"Retention at {now:%Y-%m-%d %H:%M} UTC"
            + (" (dry run: nothing changed)" if dry_run else "")
        )
        width = max(len(name) for name in RETENTION_DAYS)
        for name, days in RETENTION_DAYS.items():
            period = f"{days:>4} days" if days else "at expiry"
            policy = policies.get(name)
            if policy is None:
                note = NOT_YET_APPLIED.get(name, "no policy registered")
                self.stdout.write(f"{name:<{width}}  {period}  {note}")
                continue
            cutoff = f"cutoff {policy.cutoff(now):%Y-%m-%d %H:%M}"
            count = run.counts.get(name)
            if count is None:
                outcome = "failed (see the log)"
            elif dry_run:
                outcome = f"would {policy.action} {count}"
            else:
                outcome = f"{PAST_TENSE[policy.action]} {count}"
            self.stdout.write(f"{name:<{width}}  {period}  {cutoff}  {outcome}")
            if options["verbosity"] > 1:
                self.stdout.write(f"    {policy.description}")
        if run.error:
            raise CommandError(f"Retention run {run.pk} had failures:\n{run.error}")
