"""How well `pii_find` finds PII, measured on a labelled corpus (masking_corpus.jsonl).

Each corpus line is `{"text": ..., "pii": [{"kind": "phone", "value": "+1 415 555 0142"}, ...]}`,
every value an exact substring of the text; a line with no PII is a look-alike the finder must
leave alone. A labelled value is found (a true positive) when a span of its kind overlaps it, so a
phone number found with its extension still counts; each span answers for one label at most.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from privacy.masking import PII_KINDS, PiiSpan, pii_find

CORPUS = Path(__file__).with_name("masking_corpus.jsonl")
OVERALL = "overall"


@dataclass(frozen=True)
class Labelled:
    text: str
    pii: tuple[tuple[str, str], ...]  # (kind, value)


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def labelled(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def found(self) -> int:
        return self.true_positives + self.false_positives

    # Nothing found is no wrong find, nothing labelled no miss: both count as perfect.
    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.labelled if self.labelled else 1.0


@dataclass(frozen=True)
class Error:
    """A labelled value that was missed, or a span found where nothing was labelled."""

    kind: str
    value: str
    text: str
    missed: bool


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=lambda: {k: Score() for k in PII_KINDS})
    errors: list[Error] = field(default_factory=list)

    @property
    def overall(self) -> Score:
        return Score(
            sum(score.true_positives for score in self.scores.values()),
            sum(score.false_positives for score in self.scores.values()),
            sum(score.false_negatives for score in self.scores.values()),
        )


def load_corpus(path: Path = CORPUS) -> list[Labelled]:
    corpus = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            pii = tuple((item["kind"], item["value"]) for item in row["pii"])
            for kind, value in pii:
                if kind not in PII_KINDS or not value or value not in row["text"]:
                    raise ValueError(f"{path.name}:{number}: bad label {kind}={value!r}")
            corpus.append(Labelled(row["text"], pii))
    return corpus


def _label_spans(entry: Labelled) -> list[tuple[str, int, int]]:
    """Where each labelled value is: a value labelled twice is its first two occurrences."""
    spans, searched_from = [], dict[str, int]()
    for kind, value in entry.pii:
        start = entry.text.find(value, searched_from.get(value, 0))
        if start < 0:
            raise ValueError(f"{value!r} is labelled more often than it occurs in {entry.text!r}")
        searched_from[value] = start + len(value)
        spans.append((kind, start, start + len(value)))
    return spans


def evaluate(
    corpus: Iterable[Labelled] | None = None,
    find: Callable[[str], list[PiiSpan]] = pii_find,
) -> Evaluation:
    evaluation = Evaluation()
    for entry in load_corpus() if corpus is None else corpus:
        unmatched = list(find(entry.text))
        for kind, start, end in _label_spans(entry):
            score = evaluation.scores[kind]
            match = next(
                (
                    span
                    for span in unmatched
                    if span.kind == kind and span.start < end and start < span.end
                ),
                None,
            )
            if match is None:
                score.false_negatives += 1
                evaluation.errors.append(Error(kind, entry.text[start:end], entry.text, True))
            else:
                score.true_positives += 1
                unmatched.remove(match)
        for span in unmatched:
            evaluation.scores[span.kind].false_positives += 1
            evaluation.errors.append(Error(span.kind, span.value, entry.text, False))
    return evaluation


def table(evaluation: Evaluation) -> str:
    header = f"{'kind':<10}{'labelled':>9}{'found':>7}{'TP':>6}{'FP':>6}{'FN':>6}"
    lines = [header + f"{'precision':>11}{'recall':>8}"]
    rows = [*evaluation.scores.items(), (OVERALL, evaluation.overall)]
    for kind, score in rows:
        lines.append(
            f"{kind:<10}{score.labelled:>9}{score.found:>7}{score.true_positives:>6}"
            f"{score.false_positives:>6}{score.false_negatives:>6}"
            f"{score.precision:>11.3f}{score.recall:>8.3f}"
        )
    return "\n".join(lines)
