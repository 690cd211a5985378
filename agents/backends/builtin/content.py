"""Content agent: what performed, by format and topic, and what to publish next, from
ContentItem rows. It drafts from the tenant's own best topics; writing copy in the tenant's
voice is what a Langflow flow is for."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import AgentContext, ProposedAction
from agents.backends.builtin import content_writing
from agents.backends.builtin.common import (
    ANSWERED,
    MAX_SUGGESTIONS,
    Answer,
    Skill,
    best_skill,
    confidence,
    count,
    day,
    percent,
)
from agents.models import ContentItem
from agents.types import ActionType
from agents.understanding import Intent, Request, Verb

WINDOW_DAYS = 30
SHOWN = 3


def engagement_rate(items: list[ContentItem]) -> Decimal | None:
    impressions = sum(item.impressions for item in items)
    if not impressions:
        return None
    engaged = sum(item.engagements for item in items)
    return (Decimal(engaged) * 100 / Decimal(impressions)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _recent(tenant: Tenant) -> tuple[list[ContentItem], date | None]:
    latest = selectors.latest_published_day(tenant)
    if latest is None:
        return [], None
    since = latest - timedelta(days=WINDOW_DAYS - 1)
    return selectors.published_content(tenant, since=since), since


def _recent_since(tenant: Tenant) -> tuple[list[ContentItem], date]:
    items, since = _recent(tenant)
    # The skills run only once answer() has found published content, so the window has a start.
    return items, cast(date, since)


def _by_topic(items: list[ContentItem]) -> list[tuple[str, Decimal, int]]:
    groups: dict[str, list[ContentItem]] = defaultdict(list)
    for item in items:
        if item.topic:
            groups[item.topic].append(item)
    rated = [
        (topic, rate, len(group))
        for topic, group in groups.items()
        if (rate := engagement_rate(group)) is not None
    ]
    return sorted(rated, key=lambda row: (-row[1], row[0]))


def top_content(tenant: Tenant, message: str) -> Answer:
    items, since = _recent_since(tenant)
    rated = sorted(
        (
            (item, rate)
            for item in items
            if item.impressions and (rate := engagement_rate([item])) is not None
        ),
        key=lambda pair: (-pair[1], pair[0].title),
    )[:SHOWN]
    overall = engagement_rate(items)
    lines = [
        f"{count(len(items))} pieces published since {day(since)}, "
        # No impressions at all: 0%, as by_format() says.
        f"{percent(overall or 0)} average engagement. Best:"
    ]
    lines += [
        f"- {item.title} ({item.get_kind_display()}, {item.channel}): {percent(rate)} of "
        f"{count(item.impressions)} impressions"
        for item, rate in rated
    ]
    return Answer("\n".join(lines), {"overall_rate": overall, "top": [i.title for i, _ in rated]})


def by_format(tenant: Tenant, message: str) -> Answer:
    items, since = _recent_since(tenant)
    groups: dict[str, list[ContentItem]] = defaultdict(list)
    for item in items:
        groups[item.get_kind_display()].append(item)
    rows = sorted(
        ((kind, engagement_rate(group), len(group)) for kind, group in groups.items()),
        key=lambda row: (-(row[1] or 0), row[0]),
    )
    lines = [f"Engagement by format since {day(since)}:"]
    lines += [f"- {kind}: {percent(rate or 0)} over {count(n)} pieces" for kind, rate, n in rows]
    return Answer("\n".join(lines), {"formats": rows})


def ideas(tenant: Tenant, message: str) -> Answer:
    items, since = _recent_since(tenant)
    topics = _by_topic(items)[:SHOWN]
    if not topics:
        return Answer("I need published content with topics to suggest what to write next.")
    lines = [f"Your best topics since {day(since)}, by engagement:"]
    lines += [f"- {topic}: {percent(rate)} over {count(n)} pieces" for topic, rate, n in topics]
    best = topics[0][0]
    lines.append(
        f"Next: a how-to article on {best}, a short video answering the top question on {best}, "
        f"and a carousel pairing {best} with {topics[-1][0]}."
    )
    answer = Answer("\n".join(lines), {"topics": topics})
    answer.actions = _publish_proposals(tenant, items, [t for t, _, _ in topics])[:MAX_SUGGESTIONS]
    if answer.actions:
        answer.text += "\n" + " ".join(a.description for a in answer.actions)
    return answer


def _publish_proposals(
    tenant: Tenant, published: list[ContentItem], topics: list[str]
) -> list[ProposedAction]:
    ready = [
        item
        for item in selectors.unpublished_content(tenant)
        if item.status == ContentItem.Status.SCHEDULED and item.topic in topics
    ]
    actions = []
    for item in ready[:SHOWN]:
        peers = [p for p in published if p.topic == item.topic and p.channel == item.channel]
        reach = sum(p.impressions for p in peers) // len(peers) if peers else None
        actions.append(
            ProposedAction(
                action_type=ActionType.CONTENT_PUBLISH,
                title=f"Publish '{item.title}' now",
                description=(
                    f"'{item.title}' is scheduled and its topic, {item.topic}, is among your best: "
                    "publish it now?"
                ),
                data={"content_id": item.pk, "channel": item.channel},
                estimated_cost=Decimal("0.00"),
                estimated_reach=reach,
                rationale={"topic": item.topic, "peer_items": len(peers)},
            )
        )
    return actions


SKILLS = [
    Skill(
        "top_content",
        {
            "top": 0.4,
            "best": 0.4,
            "perform": 0.4,
            "engag": 0.5,
            "post": 0.2,
            "viral": 0.4,
            "worked": 0.4,
        },
        top_content,
    ),
    Skill(
        "by_format",
        {
            "format": 0.6,
            "video": 0.3,
            "blog": 0.3,
            "email": 0.2,
            "social": 0.2,
            "which type": 0.5,
            "compare": 0.3,
        },
        by_format,
    ),
    Skill(
        "ideas",
        {
            "idea": 0.7,
            "write": 0.5,
            "next": 0.3,
            "topic": 0.5,
            "calendar": 0.5,
            "plan": 0.3,
            "caption": 0.5,
            "draft": 0.5,
            "publish": 0.4,
        },
        ideas,
    ),
]


def answer(tenant: Tenant, request: Request, context: AgentContext) -> tuple[Answer, float]:
    if request.intent == Intent.CONTENT:
        written = content_writing.draft(tenant, request)
        written.figures["skill"] = "write"
        return written, ANSWERED
    if request.intent == Intent.COMMAND:
        if request.verb == Verb.PUBLISH:
            published = content_writing.publish(tenant, request)
            published.figures["skill"] = "publish"
            return published, ANSWERED
        return Answer(
            "I write and publish your content; campaigns and segments are the Paid Ads and "
            "Audience agents' work.",
            {"skill": "handoff"},
        ), ANSWERED
    message = request.text
    items, _ = _recent(tenant)
    if not items:
        return Answer(
            "I have no published content of yours yet: import it first.", has_data=False
        ), 0.0
    skill, score = best_skill(message, SKILLS)
    result = skill.handler(tenant, message)
    result.figures["skill"] = skill.name
    return result, confidence(score, result)
