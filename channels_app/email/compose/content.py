"""The Content agent's section: what was published, its engagement, top posts and topic ideas."""

from __future__ import annotations

from agents.backends.builtin.common import count, day, percent
from agents.types import AgentType
from channels_app.email.compose.data import ContentData
from channels_app.email.compose.parts import BriefSection, Stat, Table
from channels_app.email.models import Section


def content_section(data: ContentData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.CONTENT, "Content", AgentType.CONTENT.label)
    if data is None:
        section.empty = "No published content yet: import it and the Content agent reports here."
        return section
    impressions = sum(item.impressions for item in data.items)
    clicks = sum(item.clicks for item in data.items)
    section.stats = [
        Stat("Published", count(len(data.items)), f"since {day(data.since)}"),
        Stat("Engagement rate", percent(data.rate) if data.rate is not None else "n/a"),
        Stat("Impressions", count(impressions), f"since {day(data.since)}"),
        Stat("Clicks", count(clicks), f"since {day(data.since)}"),
    ]
    section.lines.append(
        f"{count(len(data.items))} pieces published since {day(data.since)}: "
        f"{count(impressions)} impressions, {count(clicks)} clicks"
        + (f", {percent(data.rate)} engagement." if data.rate is not None else ".")
    )
    if data.top:
        section.lines.append(
            "Top posts: "
            + "; ".join(f"{item.title} at {percent(rate)}" for item, rate in data.top)
            + "."
        )
    if data.topics:
        best, rate, _ = data.topics[0]
        idea = (
            f"Ideas for today: more on {best}, your best topic at {percent(rate)} engagement; "
            "a how-to article or a short video answering its top question."
        )
        section.lines.append(idea)
        section.notes.append(idea)
    section.tables = [
        Table(
            "Top posts",
            ("Title", "Format", "Channel", "Impressions", "Engagement"),
            tuple(
                (
                    item.title,
                    item.get_kind_display(),
                    item.channel,
                    count(item.impressions),
                    percent(rate),
                )
                for item, rate in data.top
            ),
            (False, False, False, True, True),
        ),
        Table(
            "Best topics",
            ("Topic", "Engagement", "Pieces"),
            tuple((topic, percent(rate), count(n)) for topic, rate, n in data.topics),
            (False, True, True),
        ),
    ]
    return section
