"""Understanding one message to a marketing agent: its intent, and the slots it fills.

`understand` is pure (no queries): the caller passes the tenant's names (`names_for`), the
tenant's today, and the Request of the previous user message for follow-ups, so the built-in
agents answer exactly what was asked, and a Langflow flow gets the same reading as context
(`Request.as_dict`).

The modules, in the order `understand` uses them: intent.py (verbs, content requests,
confirmations, choices), names.py (loose name matching with rapidfuzz), periods.py,
amounts.py, slots.py (metric, platform, channel, content kind, topic), parse.py (one message
on its own) and turns.py (linking it to the previous one); request.py holds the types,
text.py the blanking of what each slot took, vocabulary.py the word lists.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from agents.models import AudienceSegment, Campaign, ContentItem
from agents.understanding.intent import is_confirmation, read_choice
from agents.understanding.parse import read
from agents.understanding.periods import period_resolve
from agents.understanding.request import (
    Amount,
    Intent,
    Named,
    NameMatch,
    Names,
    Period,
    Request,
    Verb,
)
from agents.understanding.turns import chosen, confirmed, linked

if TYPE_CHECKING:
    from accounts.models import Tenant

__all__ = [
    "Amount",
    "Intent",
    "NameMatch",
    "Named",
    "Names",
    "Period",
    "Request",
    "Verb",
    "names_for",
    "period_resolve",
    "understand",
]


def understand(
    text: str,
    *,
    names: Names,
    today: date,
    previous: Request | None = None,
    agent_type: str | None = None,
) -> Request:
    """What the message asks, in the conversation so far. `agent_type` (an AgentType value)
    only shifts word meanings ("google" is the search engine to the SEO agent); any agent's
    messages parse without it."""
    if is_confirmation(text):
        return confirmed(text, previous)
    choice = read_choice(text)
    if choice is not None and (request := chosen(text, choice, previous)) is not None:
        return request
    reading = read(text, names=names, today=today, agent_type=agent_type, earlier=previous)
    return linked(reading, previous, names)


def names_for(tenant: Tenant) -> Names:
    """The tenant's campaigns (every status), content items and segments, by name: the only
    part of understanding that reads the database (three queries)."""
    campaigns = Campaign.objects.for_tenant(tenant).order_by("name", "pk")
    content = ContentItem.objects.for_tenant(tenant).order_by("title", "pk")
    segments = AudienceSegment.objects.for_tenant(tenant).order_by("name", "pk")
    return Names(
        campaigns=tuple(
            Named(id=pk, name=name, kind="campaign", platform=platform, status=status)
            for pk, name, platform, status in campaigns.values_list(
                "pk", "name", "platform", "status"
            )
        ),
        content=tuple(
            Named(id=pk, name=title, kind="content", platform=channel, status=status)
            for pk, title, status, channel in content.values_list(
                "pk", "title", "status", "channel"
            )
        ),
        segments=tuple(
            Named(id=pk, name=name, kind="segment")
            for pk, name in segments.values_list("pk", "name")
        ),
    )
