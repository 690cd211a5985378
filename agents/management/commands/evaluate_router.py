"""Measure the router on the labelled evaluation set.

Each line of the set is ``{"text", "label", "current_agent"?, "needs_human"?, "kind"?}``: ``kind``
is ``follow_up``, ``switch`` (an agent named explicitly) or ``topic_change`` (the topic moves
away from the current agent without naming one); a line without it is a plain message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.router import (
    AGENTS,
    EVAL_PATH,
    NO_TOPIC,
    TRAIN_PATH,
    Example,
    IntentClassifier,
    RouteContext,
    load_examples,
    route,
    training_examples,
)

KINDS = ("plain", "follow_up", "switch", "topic_change")
SHORT_NAMES = {
    "paid_ads_optimization": "paid_ads",
    "seo_optimization": "seo",
    "content_generation": "content",
    "audience_intelligence": "audience",
}


@dataclass(frozen=True)
class Case:
    text: str
    label: str
    current_agent: str | None
    needs_human: bool
    kind: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    agent_type: str
    needs_human: bool

    @property
    def correct(self) -> bool:
        return self.agent_type == self.case.label


def load_cases(path: Path) -> list[Case]:
    cases = []
    for row in load_examples(path):
        label, current = row.get("label"), row.get("current_agent")
        kind = row.get("kind", "plain")
        if label not in AGENTS or (current is not None and current not in AGENTS):
            raise CommandError(f"{path.name}: unknown agent type in {row!r}")
        if kind not in KINDS:
            raise CommandError(f"{path.name}: unknown kind {kind!r} in {row!r}")
        cases.append(
            Case(
                text=str(row["text"]),
                label=str(label),
                current_agent=str(current) if current else None,
                needs_human=bool(row.get("needs_human", False)),
                kind=str(kind),
            )
        )
    if not cases:
        raise CommandError(f"{path} holds no cases")
    return cases


def percent(hits: int, total: int) -> str:
    return f"{100.0 * hits / total:.1f}% ({hits}/{total})" if total else "n/a (0/0)"


class Command(BaseCommand):
    help = "Route every message of the evaluation set and print accuracy, by agent and by kind."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=EVAL_PATH, help="evaluation JSONL")
        parser.add_argument(
            "--fail-under",
            type=float,
            default=None,
            metavar="PERCENT",
            help="exit non-zero when overall accuracy is below this",
        )
        parser.add_argument(
            "--cross-check",
            action="store_true",
            help="also train a classifier on the evaluation set and test it on the training set",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            cases = load_cases(path)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        outcomes = []
        for case in cases:
            decision = route(case.text, RouteContext(current_agent=case.current_agent))
            outcomes.append(Outcome(case, decision.agent_type, decision.needs_human))

        accuracy = self.report(path, outcomes, show_misses=options["verbosity"] >= 2)
        if options["cross_check"]:
            self.cross_check(cases)
        fail_under = options["fail_under"]
        if fail_under is not None and accuracy < fail_under:
            raise CommandError(f"routing accuracy {accuracy:.1f}% is under {fail_under:g}%")

    def report(self, path: Path, outcomes: list[Outcome], *, show_misses: bool) -> float:
        write = self.stdout.write
        hits = sum(o.correct for o in outcomes)
        write(f"Router evaluation on {path.name}: {len(outcomes)} messages")
        write(f"Overall accuracy: {percent(hits, len(outcomes))}")

        write("Per agent:")
        for agent in AGENTS:
            group = [o for o in outcomes if o.case.label == agent]
            write(f"  {agent:<24}{percent(sum(o.correct for o in group), len(group))}")

        write("By kind:")
        for kind in KINDS:
            group = [o for o in outcomes if o.case.kind == kind]
            write(f"  {kind:<24}{percent(sum(o.correct for o in group), len(group))}")

        flagged = [o for o in outcomes if o.needs_human]
        asked = [o for o in outcomes if o.case.needs_human]
        true_flags = sum(o.case.needs_human for o in flagged)
        write(
            f"Human requests: precision {percent(true_flags, len(flagged))}, "
            f"recall {percent(true_flags, len(asked))}"
        )

        write("Confusion matrix (rows: expected, columns: routed):")
        counts = Counter((o.case.label, o.agent_type) for o in outcomes)
        names = [SHORT_NAMES.get(a, a) for a in AGENTS]
        width = max(len(n) for n in names) + 2
        write(" " * width + "".join(f"{n:>{width}}" for n in names))
        for agent, name in zip(AGENTS, names, strict=True):
            cells = "".join(f"{counts[(agent, routed)]:>{width}}" for routed in AGENTS)
            write(f"{name:<{width}}{cells}")

        if show_misses:
            for o in outcomes:
                if not o.correct or o.needs_human != o.case.needs_human:
                    write(
                        f"  miss [{o.case.kind}] {o.case.text!r} (current {o.case.current_agent})"
                        f": expected {o.case.label}, routed {o.agent_type}, "
                        f"human {o.needs_human}/{o.case.needs_human}"
                    )
        return 100.0 * hits / len(outcomes)

    def cross_check(self, cases: list[Case]) -> None:
        """The classifier alone, trained the other way round: on the evaluation messages that
        stand on their own (a follow-up's text means nothing without its conversation), tested
        on the training set's agent messages. A large gap with the main figure would mean the
        two sets were written in different voices."""
        train = [Example(c.text, c.label) for c in cases if c.current_agent is None]
        test = [e for e in training_examples(TRAIN_PATH) if e.label != NO_TOPIC]
        predicted = IntentClassifier(train).predict(e.text for e in test)
        hits = sum(p == e.label for p, e in zip(predicted, test, strict=True))
        self.stdout.write(
            f"Cross-check (trained on eval, tested on train): {percent(hits, len(test))}"
        )
