"""The free-text PII finder, measured on privacy/masking_corpus.jsonl: the corpus is sound, the
scores hold their floors, and `manage.py evaluate_masking` prints them."""

from __future__ import annotations

import json
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command

from privacy.masking import PII_KINDS, PiiSpan, mask_text, pii_find
from privacy.masking_evaluation import CORPUS, Evaluation, Labelled, evaluate, load_corpus

# What the finder reached when these floors were set (precision, recall), less a small margin:
# overall 0.988 and 0.984; per kind below.
OVERALL_FLOOR = 0.97
FLOORS = {  # kind: (precision, recall)
    "email": (0.97, 0.97),  # 1.000, 1.000
    "phone": (0.97, 0.95),  # 0.988, 0.977
    "card": (0.95, 0.97),  # 0.971, 1.000
    "api_key": (0.97, 0.97),  # 1.000, 1.000
    "address": (0.95, 0.93),  # 0.976, 0.952
}


@pytest.fixture(scope="module")
def corpus() -> list[Labelled]:
    return load_corpus()


@pytest.fixture(scope="module")
def evaluation(corpus: list[Labelled]) -> Evaluation:
    return evaluate(corpus)


def test_the_corpus_is_large_labelled_and_holds_look_alikes(corpus: list[Labelled]) -> None:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(corpus) >= 250
    for row in rows:
        for item in row["pii"]:
            assert item["kind"] in PII_KINDS
            assert item["value"] in row["text"], row
    labels = [kind for entry in corpus for kind, _value in entry.pii]
    assert all(labels.count(kind) >= 30 for kind in PII_KINDS)
    assert sum(1 for entry in corpus if not entry.pii) >= 100


def test_the_finder_holds_its_floors(evaluation: Evaluation) -> None:
    assert evaluation.overall.precision >= OVERALL_FLOOR
    assert evaluation.overall.recall >= OVERALL_FLOOR
    for kind, (precision, recall) in FLOORS.items():
        score = evaluation.scores[kind]
        assert score.precision >= precision, kind
        assert score.recall >= recall, kind


def test_what_is_found_in_the_corpus_is_masked(corpus: list[Labelled]) -> None:
    for entry in corpus:
        spans = pii_find(entry.text)
        assert all(span.value == entry.text[span.start : span.end] for span in spans)
        assert all(left.end <= right.start for left, right in pairwise(spans))
        masked = mask_text(entry.text)
        for span in spans:
            assert span.value not in masked, (span, masked)


def test_a_label_counts_once_and_an_overlapping_find_of_its_kind_finds_it() -> None:
    text = "call +1 415 555 0142 ext. 9 or mail ana@globex.example, ref 4821"
    corpus = [Labelled(text, (("phone", "+1 415 555 0142"), ("email", "ana@globex.example")))]
    phone = text.index("+1")

    def find(text: str) -> list[PiiSpan]:
        return [
            # The extension too: overlaps the label, a true positive.
            PiiSpan("phone", phone, phone + 22, text[phone : phone + 22]),
            # The wrong kind over the email: a false positive and a miss.
            PiiSpan("card", text.index("ana"), text.index(","), "ana@globex.example"),
            PiiSpan("phone", text.index("4821"), len(text), "4821"),
        ]

    evaluation = evaluate(corpus, find)
    phones, emails, cards = (evaluation.scores[kind] for kind in ("phone", "email", "card"))
    assert (phones.true_positives, phones.false_positives, phones.false_negatives) == (1, 1, 0)
    assert (emails.true_positives, emails.false_negatives, cards.false_positives) == (0, 1, 1)
    assert (evaluation.overall.precision, evaluation.overall.recall) == (1 / 3, 1 / 2)


def test_the_command_prints_a_table_per_kind_and_overall(evaluation: Evaluation) -> None:
    out = StringIO()
    call_command("evaluate_masking", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split() == [
        "kind",
        "labelled",
        "found",
        "TP",
        "FP",
        "FN",
        "precision",
        "recall",
    ]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert list(rows) == [*PII_KINDS, "overall"]
    overall = evaluation.overall
    assert rows["overall"] == [
        str(overall.labelled),
        str(overall.found),
        str(overall.true_positives),
        str(overall.false_positives),
        str(overall.false_negatives),
        f"{overall.precision:.3f}",
        f"{overall.recall:.3f}",
    ]
