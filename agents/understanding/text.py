"""The message as the parser reads it: lowercased, with the parts already understood blanked.

Each slot that takes words from the message (a period, a name, an amount) blanks them, so the
next slot cannot read them again: the "1" of "Lookalike 1%" is never an amount, the "3" of
"Nov 3" never a count. Blanking keeps every offset, so spans found later still point into the
original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words as the parser counts them: letters and digits, with an inner apostrophe kept ("let's",
# "what's") so contractions stay one word.
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
DASHES = str.maketrans({"\u2013": "-", "\u2014": "-"})


@dataclass(frozen=True)
class Token:
    word: str
    start: int
    end: int
    index: int

    @property
    def is_number(self) -> bool:
        return self.word.isdecimal()


def lower(text: str) -> str:
    """Lowercase without changing the length (a few characters lowercase to two), with curly
    apostrophes and long dashes made plain."""
    plain = text.translate(APOSTROPHES).translate(DASHES)
    lowered = plain.lower()
    if len(lowered) == len(plain):
        return lowered  # no character grew (lowercasing never shrinks one)
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in plain)


def words(text: str) -> list[str]:
    return WORD.findall(lower(text))


def tokens_of(text: str) -> list[Token]:
    return [
        Token(match.group(), match.start(), match.end(), index)
        for index, match in enumerate(WORD.finditer(text))
    ]


class Text:
    """The lowercased message, with the spans the slots took blanked out."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.lowered = lower(raw)
        self._chars = list(self.lowered)

    @property
    def masked(self) -> str:
        return "".join(self._chars)

    def mask(self, start: int, end: int) -> None:
        for position in range(start, end):
            self._chars[position] = " "

    def tokens(self) -> list[Token]:
        return tokens_of(self.masked)

    def snippet(self, start: int, end: int) -> str:
        """The words between two offsets, lowercased, without punctuation or a possessive
        ("Search - Brand's" is "search brand")."""
        return " ".join(word.removesuffix("'s") for word in WORD.findall(self.lowered[start:end]))
