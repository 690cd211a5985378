"""What the built-in agents share: skills matched against the question, and figure formatting.

Every number an answer states is formatted here from a value computed from the tenant's rows,
and recorded in the answer's `figures`, so the claim "every number comes from the data" can be
checked (tests/agents/test_builtin_backend.py does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from agents.backends.base import AgentContext, ProposedAction
from agents.understanding import NameMatch, Request

WORD = re.compile(r"[a-z0-9']+")
# Below this, an answer is a guess at what was asked and the policy holds it for a human.
MATCHED, UNMATCHED, NO_DATA = 0.5, 0.45, 0.3
# An answer to what was asked, from the data: a figure, a command made an action, a question
# back ("which campaign?"). Confidence measures the answer, not the data's mood.
ANSWERED = 0.9
# An agent suggests at most this many actions in one answer.
MAX_SUGGESTIONS = 2


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


@dataclass
class Answer:
    text: str
    figures: dict[str, Any] = field(default_factory=dict)
    actions: list[ProposedAction] = field(default_factory=list)
    has_data: bool = True


@dataclass(frozen=True)
class Skill:
    """One kind of question an agent answers. `terms` are word prefixes with weights: a question
    scores the sum of the weights of the distinct terms it contains, capped at 1."""

    name: str
    terms: dict[str, float]
    handler: Callable[..., Answer]

    def score(self, tokens: Iterable[str]) -> float:
        tokens = list(tokens)
        text = " ".join(tokens)
        weights = [
            weight
            for term, weight in self.terms.items()
            if (term in text if " " in term else any(token.startswith(term) for token in tokens))
        ]
        return min(1.0, sum(weights))


def best_skill(message: str, skills: list[Skill]) -> tuple[Skill, float]:
    """The skill the question matches best; ties and no match go to the first (the default)."""
    tokens = words(message)
    scored = [(skill.score(tokens), index, skill) for index, skill in enumerate(skills)]
    score, _, skill = max(scored, key=lambda item: (item[0], -item[1]))
    return skill, score


def confidence(score: float, answer: Answer, entity_bonus: float = 0.0) -> float:
    if not answer.has_data:
        return NO_DATA
    matched = min(1.0, score + entity_bonus)
    if matched == 0:
        return UNMATCHED
    return round(min(0.95, MATCHED + 0.45 * matched), 2)


def not_found(what: str, match: NameMatch, *, quoted: bool = False, otherwise: str = "") -> str:
    """ "I couldn't find a campaign called “foobar”; did you mean Search - Brand?", or, with no
    close name, the sentence and then `otherwise`."""
    text = f"I couldn't find {what} called “{match.asked}”"
    if match.suggestion is None:
        return f"{text}.{otherwise}"
    name = f"“{match.suggestion.name}”" if quoted else match.suggestion.name
    return f"{text}; did you mean {name}?"


def find_named(message: str, names: Iterable[str]) -> str | None:
    """The longest of `names` the message mentions (case-insensitive), if any."""
    lowered = message.lower()
    found = [name for name in names if name and name.lower() in lowered]
    return max(found, key=len) if found else None


# Formatting: one way to print each kind of figure.

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def money(value: Decimal) -> str:
    return f"${Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"


def ratio(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{Decimal(value).quantize(CENT, ROUND_HALF_UP)}x"


def percent(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).quantize(TENTH, ROUND_HALF_UP)}%"


def change(value: Decimal | float) -> str:
    quantized = Decimal(str(value)).quantize(TENTH, ROUND_HALF_UP)
    return f"+{quantized}%" if quantized > 0 else f"{quantized}%"


def count(value: int) -> str:
    return f"{int(value):,}"


def day(value: date) -> str:
    return f"{value:%b} {value.day}"


def percent_change(new: Decimal, old: Decimal) -> Decimal | None:
    if not old:
        return None
    return ((Decimal(new) - Decimal(old)) * 100 / Decimal(old)).quantize(TENTH, ROUND_HALF_UP)


AgentAnswerer = Callable[[Any, Request, AgentContext], tuple[Answer, float]]
