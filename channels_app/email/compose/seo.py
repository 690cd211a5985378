"""The SEO agent's section: keywords tracked, organic sessions, ranking moves, top pages and
keywords close to the top."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from agents.backends.builtin import seo
from agents.backends.builtin.common import change, count, day, percent_change
from agents.types import AgentType
from channels_app.email.compose.data import SeoData
from channels_app.email.compose.parts import Alert, BriefSection, Stat, Table, tone
from channels_app.email.compose.priority import ranked_alerts
from channels_app.email.models import Priority, Section

MOVES_SHOWN = 5
# A keyword that fell this many places or more is worth a look today.
RANKING_DROP_ALERT = 5


def _signed(places: int) -> str:
    return f"+{places}" if places > 0 else str(places)


def seo_section(data: SeoData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.SEO, "SEO & organic", AgentType.SEO.label)
    if data is None:
        section.empty = "No keyword rankings yet: import them and the SEO agent reports here."
        return section
    traffic = percent_change(Decimal(data.organic), Decimal(data.organic_before))
    compared = data.day - timedelta(days=seo.COMPARE_DAYS)
    section.stats = [
        Stat("Keywords tracked", count(data.tracked), f"on {day(data.day)}"),
        Stat(
            "Organic sessions, last 7 days",
            count(data.organic),
            f"{change(traffic)} vs the week before" if traffic is not None else "",
            tone(traffic),
        ),
        Stat(
            "Moved up",
            count(len(data.gains)),
            f"since {day(compared)}",
            "good" if data.gains else "neutral",
        ),
        Stat(
            "Moved down",
            count(len(data.drops)),
            f"since {day(compared)}",
            "bad" if data.drops else "neutral",
        ),
    ]
    section.lines.append(
        f"{count(data.tracked)} keywords tracked on {day(data.day)}; organic sessions "
        f"{count(data.organic)} over the last 7 days"
        + (f" ({change(traffic)})." if traffic is not None else ".")
    )
    if data.gains:
        section.lines.append(
            "Biggest gains: "
            + "; ".join(f"'{k}' {old} to {new}" for _, k, old, new in data.gains)
            + "."
        )
    if data.drops:
        section.lines.append(
            "Biggest drops: "
            + "; ".join(f"'{k}' {old} to {new}" for _, k, old, new in data.drops)
            + "."
        )
    if data.opportunities:
        section.lines.append(
            "Opportunities: "
            + "; ".join(
                f"'{r.keyword}' at position {r.position}, {count(r.search_volume)} searches a month"
                for r in data.opportunities
            )
            + "."
        )
    moves = [*data.gains, *data.drops]
    section.tables = [
        Table(
            f"Ranking moves since {day(compared)}",
            ("Keyword", "Was", "Now", "Places"),
            tuple((k, str(old), str(new), _signed(moved)) for moved, k, old, new in moves),
            (False, True, True, True),
        ),
        Table(
            f"Top pages, {day(data.pages_window.start)} to {day(data.pages_window.end)}",
            ("Page", "Organic sessions", "Sessions", "Conversions"),
            tuple(
                (str(p["url"]), count(p["organic"]), count(p["sessions"]), count(p["conversions"]))
                for p in data.pages
            ),
            (False, True, True, True),
        ),
        Table(
            "Keywords close to the top",
            ("Keyword", "Position", "Searches a month"),
            tuple((r.keyword, str(r.position), count(r.search_volume)) for r in data.opportunities),
            (False, True, True),
        ),
    ]
    section.alerts = ranked_alerts(
        [
            Alert(
                Priority.MEDIUM,
                f"'{k}' fell from position {old} to {new} since {day(compared)}.",
            )
            for moved, k, old, new in data.drops
            if -moved >= RANKING_DROP_ALERT
        ],
        minimum,
    )
    return section
