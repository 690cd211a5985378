"""Money and percentages ("$1.5k", "by 20%", "to $600 a day"), and counts ("3 posts").

Read from the message after the names and the period are blanked, so "Lookalike 1%" and
"Nov 3" never become amounts. A bare number is an amount only after "by", "to" or "at" in a
budget change ("raise it by 50"); anywhere else it is a count or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from agents.understanding.request import BUDGET_VERBS, Amount, Verb
from agents.understanding.vocabulary import CONTENT_NOUNS, NUMBER_WORDS

_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
_SCALE = r"(?:\s*(?P<mult>k|thousand|m|mn|million)\b)?"
MONEY = re.compile(r"(?P<cur>[$€£])\s*" + _NUMBER + _SCALE)
MONEY_WORDS = re.compile(
    r"\b" + _NUMBER + _SCALE + r"\s*(?:dollars?|bucks|usd|eur|euros?|gbp|pounds?)\b"
)
THOUSANDS = re.compile(r"\b" + _NUMBER + r"\s*(?P<mult>k)\b")
PERCENT = re.compile(r"\b" + _NUMBER + r"\s*(?:%|percent\b|per\s?cent\b|pct\b)")
BARE = re.compile(r"\b(?:by|to|at)\s+" + _NUMBER + r"\b(?!\s*(?:%|percent|per\s?cent))")
MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000, "million": 10**6}
# Words that double or halve instead of stating a number.
FACTORS = [
    (re.compile(r"\bdoubl(?:e|ed|ing)\b"), Decimal("100")),
    (re.compile(r"\btripl(?:e|ed|ing)\b"), Decimal("200")),
    (re.compile(r"\bhalve[sd]?\b|\bin half\b|\bby half\b"), Decimal("50")),
]
PER_DAY = re.compile(r"\b(?:a|per|each|every)\s+day\b|\bdaily\b|/\s*day\b|\bper diem\b")
NOT_PER_DAY = re.compile(
    r"\b(?:a|per|each|every)\s+(?:week|month|year)\b|\b(?:weekly|monthly|yearly|annual|lifetime"
    r"|total)\b|/\s*(?:mo|month|week|wk|year|yr)\b"
)
# Words just before an amount that say how it applies.
MODE_BEFORE = re.compile(
    r"\b(?P<word>by|to|at|from|of|up to|extra|another|additional|further)\s*(?:an?\s+)?$"
)
MORE_AFTER = re.compile(r"^\s*(?:more|extra|additional)\b")


@dataclass(frozen=True)
class FoundAmount:
    amount: Amount
    start: int
    end: int


def decimal_of(match: re.Match[str]) -> Decimal:
    """The number a match states, scaled by any "k"/"million"; whole numbers without a
    trailing ".0" ("$1.5k" is 1500, not 1500.0)."""
    text = match.group("num").replace(",", "")
    if match.group("frac"):
        text = f"{text}.{match.group('frac')}"
    value = Decimal(text)
    groups = match.groupdict()
    if groups.get("mult"):
        value *= MULTIPLIERS[groups["mult"]]
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _mode(text: str, start: int, end: int, verb: Verb | None) -> str | None:
    before = MODE_BEFORE.search(text[max(0, start - 16) : start])
    word = before.group("word") if before else ""
    if word == "from":
        return None  # the current value, not the one asked for
    if word in ("by", "extra", "another", "additional", "further") or MORE_AFTER.match(text[end:]):
        return "by"
    if word in ("to", "at", "up to"):
        return "to"
    return "by" if verb in (Verb.RAISE, Verb.LOWER) else "to"


def find_amount(text: str, verb: Verb | None, budget_words: bool) -> FoundAmount | None:
    """The amount the message asks for: the first that is not a "from" value. `text` is the
    lowercased message with names and the period blanked."""
    matches: list[tuple[int, int, Decimal, bool]] = []  # start, end, value, is_percent
    for pattern in (MONEY, MONEY_WORDS, THOUSANDS):
        matches += [(m.start(), m.end(), decimal_of(m), False) for m in pattern.finditer(text)]
    matches += [(m.start(), m.end(), decimal_of(m), True) for m in PERCENT.finditer(text)]
    if verb in BUDGET_VERBS:
        # From the number, so the "to" of "bump it to 600" is read as the mode word before it.
        matches += [(m.start("num"), m.end(), decimal_of(m), False) for m in BARE.finditer(text)]
    per_day = _per_day(text, verb, budget_words)
    chosen: list[FoundAmount] = []
    for start, end, value, is_percent in sorted(matches, key=lambda item: (item[0], -item[1])):
        if any(found.start <= start < found.end for found in chosen):
            continue  # "$10k" is also "10k"
        mode = _mode(text, start, end, verb)
        if mode is None:
            continue
        amount = Amount(value=value, mode="percent" if is_percent else mode, per_day=per_day)
        chosen.append(FoundAmount(amount, start, end))
    if chosen:
        return chosen[0]
    for pattern, percent in FACTORS:
        if verb in BUDGET_VERBS and (match := pattern.search(text)):
            return FoundAmount(Amount(percent, "percent", per_day), match.start(), match.end())
    return None


def _per_day(text: str, verb: Verb | None, budget_words: bool) -> bool:
    if PER_DAY.search(text):
        return True
    if NOT_PER_DAY.search(text):
        return False
    # Campaign budgets are daily: a budget change states a daily amount unless it says not.
    return budget_words or verb in BUDGET_VERBS


_COUNT_WORD = "|".join(["\\d{1,3}", *NUMBER_WORDS, "a couple of", "a few"])
_NOUN = "|".join(sorted(CONTENT_NOUNS, key=len, reverse=True))
COUNTED = re.compile(rf"\b(?P<n>{_COUNT_WORD})\s+(?:[\w'+-]+\s+){{0,3}}?(?:{_NOUN})\b")
TOP_N = re.compile(rf"\b(?:top|best|worst|bottom|first|last)\s+(?P<n>{_COUNT_WORD})\b")


def count_of(word: str) -> int:
    if word.isdecimal():
        return int(word)
    if word == "a couple of":
        return 2
    if word == "a few":
        return 3
    return NUMBER_WORDS[word]


def find_count(text: str) -> int | None:
    """ "3 posts" or "three captions": a number before a content noun (a few words may come
    between: "3 short Instagram posts"); or "top 5"."""
    if match := COUNTED.search(text):
        return count_of(match.group("n"))
    if match := TOP_N.search(text):
        return count_of(match.group("n"))
    return None
