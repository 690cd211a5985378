"""Score the free-text PII finder on the labelled corpus: precision and recall per kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy.masking_evaluation import CORPUS, evaluate, load_corpus, table


class Command(BaseCommand):
    help = "Score privacy.masking.pii_find on a labelled corpus, per kind of PII and overall."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", type=Path, default=CORPUS, help="A JSONL corpus.")
        parser.add_argument(
            "--errors", action="store_true", help="Also list each miss and false positive."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = load_corpus(options["corpus"])
        evaluation = evaluate(corpus)
        self.stdout.write(f"{len(corpus)} texts in {options['corpus']}")
        self.stdout.write(table(evaluation))
        if options["errors"]:
            for error in evaluation.errors:
                what = "missed" if error.missed else "false positive"
                self.stdout.write(f"{what:<15}{error.kind:<9}{error.value!r} in {error.text!r}")
