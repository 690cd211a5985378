"""SEO agent: ranking moves, a keyword's position, top pages and opportunities, from
KeywordRanking and PageTraffic rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import AgentContext
from agents.backends.builtin.common import (
    ANSWERED,
    Answer,
    Skill,
    best_skill,
    confidence,
    count,
    day,
    find_named,
)
from agents.models import KeywordRanking
from agents.understanding import Intent, Request

COMPARE_DAYS = 7
TRAFFIC_DAYS = 30
MOVES_SHOWN = 3
# Page two and the bottom of page one: close enough that better content can move them up.
OPPORTUNITY_POSITIONS = range(4, 16)


def _latest_day(tenant: Tenant) -> date:
    # The skills run only once answer() has found keyword rankings, so there is a latest day.
    return cast(date, selectors.latest_keyword_day(tenant))


def _positions(tenant: Tenant) -> tuple[dict[str, KeywordRanking], dict[str, KeywordRanking]]:
    end = _latest_day(tenant)
    return (
        selectors.keyword_positions(tenant, end),
        selectors.keyword_positions(tenant, end - timedelta(days=COMPARE_DAYS)),
    )


def _average(rows: list[KeywordRanking]) -> Decimal:
    total = sum(row.position for row in rows)
    return (Decimal(total) / len(rows)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def rankings(tenant: Tenant, message: str, keyword: str | None) -> Answer:
    if keyword:
        return keyword_position(tenant, keyword)
    now, before = _positions(tenant)
    end = _latest_day(tenant)
    moves = sorted(
        (
            (before[k].position - row.position, k, before[k].position, row.position)
            for k, row in now.items()
            if k in before
        ),
        key=lambda move: (-move[0], move[1]),
    )
    gains = [m for m in moves if m[0] > 0][:MOVES_SHOWN]
    drops = [m for m in reversed(moves) if m[0] < 0][:MOVES_SHOWN]
    common = [now[k] for k in now if k in before]
    lines = [
        f"Rankings on {day(end)} against {day(end - timedelta(days=COMPARE_DAYS))}: "
        f"{count(len(now))} keywords tracked, average position {_average(common)} "
        f"(was {_average([before[r.keyword] for r in common])})."
    ]
    if gains:
        lines.append(
            "Biggest gains: " + "; ".join(f"'{k}' {old} to {new}" for _, k, old, new in gains) + "."
        )
    if drops:
        lines.append(
            "Biggest drops: " + "; ".join(f"'{k}' {old} to {new}" for _, k, old, new in drops) + "."
        )
    return Answer(" ".join(lines), {"gains": gains, "drops": drops})


def keyword_position(tenant: Tenant, keyword: str) -> Answer:
    now, before = _positions(tenant)
    row = now[keyword]
    text = f"'{keyword}' ranks at position {row.position} on {day(row.date)}"
    if keyword in before:
        text += f" (it was {before[keyword].position} on {day(before[keyword].date)})"
    text += f", with {count(row.search_volume)} searches a month"
    text += f", for {row.url}." if row.url else "."
    return Answer(text, {"keyword": keyword, "position": row.position})


def top_pages(tenant: Tenant, message: str, keyword: str | None) -> Answer:
    # As _latest_day: answer() has found keyword rankings.
    end = cast(date, selectors.latest_keyword_day(tenant) or selectors.latest_ad_day(tenant))
    window = selectors.window_ending(end, TRAFFIC_DAYS)
    pages = selectors.page_sessions(tenant, window)[:5]
    if not pages:
        return Answer("I have no page traffic yet.", has_data=False)
    lines = [f"Top pages by organic sessions, {day(window.start)} to {day(window.end)}:"]
    lines += [
        f"- {p['url']}: {count(p['organic'])} organic of {count(p['sessions'])} sessions, "
        f"{count(p['conversions'])} conversions"
        for p in pages
    ]
    return Answer("\n".join(lines), {"pages": pages})


def opportunities(tenant: Tenant, message: str, keyword: str | None) -> Answer:
    now, _ = _positions(tenant)
    close = sorted(
        (row for row in now.values() if row.position in OPPORTUNITY_POSITIONS),
        key=lambda row: (-row.search_volume, row.keyword),
    )[:5]
    if not close:
        return Answer("No keyword sits just below the top three: nothing easy to win right now.")
    lines = ["Keywords close to the top with the most searches, worth a content refresh:"]
    lines += [
        f"- '{row.keyword}' at position {row.position}, {count(row.search_volume)} searches a month"
        + (f" ({row.url})" if row.url else "")
        for row in close
    ]
    return Answer("\n".join(lines), {"opportunities": [r.keyword for r in close]})


SKILLS = [
    Skill(
        "rankings",
        {
            "rank": 0.5,
            "position": 0.5,
            "serp": 0.5,
            "moved": 0.4,
            "drop": 0.4,
            "keyword": 0.3,
            "where do we": 0.4,
        },
        rankings,
    ),
    Skill(
        "top_pages",
        {
            "page": 0.5,
            "traffic": 0.5,
            "organic": 0.4,
            "sessions": 0.5,
            "visits": 0.4,
            "landing": 0.3,
        },
        top_pages,
    ),
    Skill(
        "opportunities",
        {
            "opportunit": 0.7,
            "quick win": 0.6,
            "wins": 0.4,
            "easy": 0.4,
            "improve": 0.3,
            "potential": 0.4,
            "should we target": 0.5,
        },
        opportunities,
    ),
]


def answer(tenant: Tenant, request: Request, context: AgentContext) -> tuple[Answer, float]:
    if request.intent in (Intent.COMMAND, Intent.CONTENT):
        return Answer(
            "I read your search rankings and organic traffic; I don't change campaigns, publish "
            "or write posts. The Paid Ads and Content agents do.",
            {"skill": "handoff"},
        ), ANSWERED
    message = request.text
    latest = selectors.latest_keyword_day(tenant)
    if latest is None:
        return Answer(
            "I have no keyword rankings for you yet: import them first.", has_data=False
        ), 0.0
    keywords = selectors.keyword_positions(tenant, latest)
    keyword = find_named(message, keywords)
    skill, score = best_skill(message, SKILLS)
    result = skill.handler(tenant, message, keyword)
    result.figures["skill"] = skill.name
    return result, confidence(score, result, 0.4 if keyword else 0.0)
