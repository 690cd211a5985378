"""What a brief is made of: figures (`Stat`), tables, alerts, sections and action items, and the
tone a figure's note is coloured in. Plain data: nothing here reads the database or renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Stat:
    label: str
    value: str  # formatted, with its unit or sign
    note: str = ""
    tone: str = "neutral"  # good, bad or neutral: the colour of the note


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]  # right-aligned columns

    @property
    def header(self) -> list[tuple[str, bool]]:
        return list(zip(self.columns, self.numeric, strict=True))

    @property
    def cells(self) -> list[list[tuple[str, bool]]]:
        return [list(zip(row, self.numeric, strict=True)) for row in self.rows]

    def as_text(self) -> str:
        """The table in plain text, columns padded, numbers aligned right."""
        widths = [
            max(len(cell) for cell in column)
            for column in zip(self.columns, *self.rows, strict=True)
        ]
        lines = [
            "  ".join(
                cell.rjust(width) if numeric else cell.ljust(width)
                for cell, width, numeric in zip(row, widths, self.numeric, strict=True)
            ).rstrip()
            for row in (self.columns, *self.rows)
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)


@dataclass(frozen=True)
class Alert:
    priority: str
    text: str


@dataclass
class BriefSection:
    key: str
    title: str
    agent: str
    stats: list[Stat] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the section as sentences
    notes: list[str] = field(default_factory=list)  # said under the figures, in every format
    empty: str = ""  # said instead, when the agent has no data yet


@dataclass(frozen=True)
class ActionItem:
    priority: str
    title: str
    description: str
    source: str  # "approval" or "recommendation"
    agent: str
    url: str
    label: str
    detail: str = ""  # cost, reach, age


def tone(value: Decimal | None, *, higher_is_better: bool = True) -> str:
    if value is None or value == 0:
        return "neutral"
    return "good" if (value > 0) == higher_is_better else "bad"
