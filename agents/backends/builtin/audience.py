"""Audience agent: segment sizes, churn risk and lifetime value over time, from SegmentDay rows,
and the exports a win-back campaign needs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import AgentContext, ProposedAction
from agents.backends.builtin.common import (
    ANSWERED,
    Answer,
    Skill,
    best_skill,
    change,
    confidence,
    count,
    day,
    find_named,
    money,
    not_found,
    percent,
    percent_change,
)
from agents.models import SegmentDay
from agents.types import ActionType
from agents.understanding import Intent, Request, Verb

COMPARE_DAYS = 30
# The share of a segment expected to leave, above which it needs attention now.
CHURN_ALERT = Decimal("0.300")


def _churn(row: SegmentDay) -> str:
    return percent(row.churn_risk * 100)


def _latest_day(tenant: Tenant) -> date:
    # The skills run only once answer() has found segment rows, so there is a latest day.
    return cast(date, selectors.latest_segment_day(tenant))


def _snapshots(tenant: Tenant) -> tuple[dict[str, SegmentDay], dict[str, SegmentDay]]:
    end = _latest_day(tenant)
    return (
        selectors.segments_on(tenant, end),
        selectors.segments_on(tenant, end - timedelta(days=COMPARE_DAYS)),
    )


def overview(tenant: Tenant, message: str, segment: str | None) -> Answer:
    now, before = _snapshots(tenant)
    rows = [now[segment]] if segment else sorted(now.values(), key=lambda r: -r.size)
    end = _latest_day(tenant)
    lines = [f"Segments on {day(end)}, against {COMPARE_DAYS} days earlier:"]
    for row in rows:
        line = (
            f"- {row.segment.name}: {count(row.size)} people, churn risk {_churn(row)}, "
            f"LTV {money(row.ltv)}"
        )
        old = before.get(row.segment.name)
        if old and (growth := percent_change(Decimal(row.size), Decimal(old.size))) is not None:
            line += f" (size {change(growth)})"
        lines.append(line)
    return Answer("\n".join(lines), {"segments": [r.segment.name for r in rows]})


def churn(tenant: Tenant, message: str, segment: str | None) -> Answer:
    now, before = _snapshots(tenant)
    at_risk = sorted(
        (row for row in now.values() if row.churn_risk >= CHURN_ALERT),
        key=lambda row: (-row.churn_risk, row.segment.name),
    )
    if not at_risk:
        worst = max(now.values(), key=lambda row: row.churn_risk)
        return Answer(
            f"No segment is above {percent(CHURN_ALERT * 100)} churn risk. The highest is "
            f"{worst.segment.name} at {_churn(worst)}.",
            {"at_risk": []},
        )
    lines = [f"At risk of churning (above {percent(CHURN_ALERT * 100)}):"]
    for row in at_risk:
        old = before.get(row.segment.name)
        trend = f", up from {_churn(old)}" if old and old.churn_risk < row.churn_risk else ""
        lines.append(
            f"- {row.segment.name}: {_churn(row)}{trend}, {count(row.size)} people worth "
            f"{money(row.ltv)} each"
        )
    answer = Answer("\n".join(lines), {"at_risk": [r.segment.name for r in at_risk]})
    if _wants_export(message):
        answer.actions = [_export(at_risk[0])]
        answer.text += "\n" + answer.actions[0].description
    return answer


def value(tenant: Tenant, message: str, segment: str | None) -> Answer:
    now, _ = _snapshots(tenant)
    rows = sorted(now.values(), key=lambda row: (-row.ltv, row.segment.name))
    lines = ["Segments by lifetime value:"]
    lines += [
        f"- {row.segment.name}: {money(row.ltv)} across {count(row.size)} people" for row in rows
    ]
    return Answer("\n".join(lines), {"by_ltv": [r.segment.name for r in rows]})


def export(tenant: Tenant, message: str, segment: str | None) -> Answer:
    now, _ = _snapshots(tenant)
    row = now[segment] if segment else max(now.values(), key=lambda r: r.churn_risk)
    action = _export(row)
    return Answer(action.description, {"segment": row.segment.name}, actions=[action])


def _wants_export(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("export", "download", "win-back", "winback", "list of"))


def _export(row: SegmentDay) -> ProposedAction:
    return ProposedAction(
        action_type=ActionType.DATA_EXPORT,
        title=f"Export {row.segment.name} for a win-back campaign",
        description=(
            f"Export the {count(row.size)} people of {row.segment.name} (churn risk "
            f"{_churn(row)}) to your ad platforms for a win-back campaign. Exports of customer "
            "data need approval."
        ),
        data={"segment_id": row.segment_id, "as_of": row.date.isoformat()},
        estimated_cost=Decimal("0.00"),
        estimated_reach=row.size,
        rationale={"churn_risk": str(row.churn_risk), "ltv": str(row.ltv)},
    )


SKILLS = [
    Skill(
        "overview",
        {
            "segment": 0.5,
            "audience": 0.4,
            "who are": 0.4,
            "size": 0.3,
            "group": 0.3,
            "cohort": 0.4,
            "rfm": 0.5,
        },
        overview,
    ),
    Skill(
        "churn",
        {
            "churn": 0.7,
            "risk": 0.5,
            "leav": 0.4,
            "lose": 0.4,
            "losing": 0.4,
            "retention": 0.5,
            "win-back": 0.5,
        },
        churn,
    ),
    Skill(
        "value",
        {
            "ltv": 0.7,
            "lifetime": 0.6,
            "valuable": 0.6,
            "best customer": 0.6,
            "worth": 0.4,
            "value": 0.4,
        },
        value,
    ),
    Skill("export", {"export": 0.8, "download": 0.6, "send the list": 0.6, "list of": 0.4}, export),
]


def answer(tenant: Tenant, request: Request, context: AgentContext) -> tuple[Answer, float]:
    message = request.text
    if selectors.latest_segment_day(tenant) is None:
        return Answer(
            "I have no audience segments for you yet: import them first.", has_data=False
        ), 0.0
    now, _ = _snapshots(tenant)
    if request.intent == Intent.COMMAND:
        return _command(request, now), ANSWERED
    if request.intent == Intent.CONTENT:
        return Answer(
            "Writing is the Content agent's work: I can tell you who your segments are, what "
            "they are worth and who is about to churn, and export a segment.",
            {"skill": "handoff"},
        ), ANSWERED
    found = request.segment.found if request.segment else None
    segment = found.name if found and found.name in now else find_named(message, now)
    skill, score = best_skill(message, SKILLS)
    result = skill.handler(tenant, message, segment)
    result.figures["skill"] = skill.name
    return result, confidence(score, result, 0.3 if segment else 0.0)


def _command(request: Request, now: dict[str, SegmentDay]) -> Answer:
    """ "Export the VIP segment": one requested export, or the question to ask instead."""
    if request.verb != Verb.EXPORT:
        return Answer(
            "I can export a segment for you; changing campaigns and publishing are the Paid Ads "
            "and Content agents' work.",
            {"skill": "handoff"},
        )
    match = request.segment
    names = sorted(now)
    if match and match.found and match.found.name in now:
        action = replace(_export(now[match.found.name]), requested=True)
        return Answer(
            action.description, {"segment": match.found.name, "skill": "export"}, [action]
        )
    if match and match.asked and not match.candidates:
        text = not_found("a segment", match)
        return Answer(text, {"unknown": match.asked, "skill": "export"})
    listed = [c.name for c in match.candidates] if match and match.candidates else names
    return Answer(
        "Which segment should I export? " + "; ".join(listed) + ".",
        {"candidates": listed, "skill": "export"},
    )
