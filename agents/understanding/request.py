"""What the parser hands back: the intent of one message and the slots it filled.

Frozen dataclasses, so a Request can be kept as the `previous` of the next turn without the
next turn changing it, and `as_dict` gives the JSON a run's metadata and a Langflow flow read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Intent(StrEnum):
    QUESTION = "question"
    COMMAND = "command"
    CONTENT = "content"
    OUT_OF_SCOPE = "out_of_scope"


class Verb(StrEnum):
    """What a COMMAND asks to change."""

    RAISE = "raise"
    LOWER = "lower"
    SET = "set"
    PAUSE = "pause"
    RESUME = "resume"
    PUBLISH = "publish"
    EXPORT = "export"


# The verbs that act on one campaign: without a campaign named, a platform's campaigns are the
# candidates.
CAMPAIGN_VERBS = frozenset({Verb.RAISE, Verb.LOWER, Verb.SET, Verb.PAUSE, Verb.RESUME})
BUDGET_VERBS = frozenset({Verb.RAISE, Verb.LOWER, Verb.SET})


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str
    explicit: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "label": self.label,
            "explicit": self.explicit,
        }


@dataclass(frozen=True)
class Amount:
    value: Decimal
    mode: str  # "by", "to" or "percent"
    per_day: bool

    def as_dict(self) -> dict[str, Any]:
        return {"value": str(self.value), "mode": self.mode, "per_day": self.per_day}


@dataclass(frozen=True)
class Named:
    """One row the parser may match by name: a campaign, a content item or a segment."""

    id: int
    name: str
    kind: str
    platform: str = ""  # a campaign's ad platform, a content item's channel
    status: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class NameMatch:
    found: Named | None
    candidates: tuple[Named, ...]
    asked: str
    suggestion: Named | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found.as_dict() if self.found else None,
            "candidates": [named.as_dict() for named in self.candidates],
            "asked": self.asked,
            "suggestion": self.suggestion.as_dict() if self.suggestion else None,
        }


@dataclass(frozen=True)
class Names:
    campaigns: tuple[Named, ...] = ()
    content: tuple[Named, ...] = ()
    segments: tuple[Named, ...] = ()


@dataclass(frozen=True)
class Request:
    text: str
    intent: Intent
    verb: Verb | None = None
    campaign: NameMatch | None = None
    platform: str | None = None
    metric: str | None = None
    period: Period | None = None
    amount: Amount | None = None
    content: NameMatch | None = None
    segment: NameMatch | None = None
    count: int | None = None
    content_kind: str | None = None
    channel: str | None = None
    topic: str | None = None
    follow_up: bool = False
    confirm: bool = False
    choice: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: for a run's metadata and a Langflow flow's context."""
        return {
            "text": self.text,
            "intent": str(self.intent),
            "verb": str(self.verb) if self.verb else None,
            "campaign": self.campaign.as_dict() if self.campaign else None,
            "platform": self.platform,
            "metric": self.metric,
            "period": self.period.as_dict() if self.period else None,
            "amount": self.amount.as_dict() if self.amount else None,
            "content": self.content.as_dict() if self.content else None,
            "segment": self.segment.as_dict() if self.segment else None,
            "count": self.count,
            "content_kind": self.content_kind,
            "channel": self.channel,
            "topic": self.topic,
            "follow_up": self.follow_up,
            "confirm": self.confirm,
            "choice": self.choice,
        }
