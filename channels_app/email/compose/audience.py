"""The Audience Intelligence agent's section: segments, their growth, churn-risk alerts."""

from __future__ import annotations

from decimal import Decimal

from agents.backends.builtin import audience
from agents.backends.builtin.common import change, count, day, money, percent, percent_change
from agents.models import SegmentDay
from agents.types import AgentType
from channels_app.email.compose.data import AudienceData
from channels_app.email.compose.parts import Alert, BriefSection, Stat, Table
from channels_app.email.compose.priority import CHURN_URGENT, ranked_alerts
from channels_app.email.models import Priority, Section


def audience_section(data: AudienceData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.AUDIENCE, "Audience", AgentType.AUDIENCE.label)
    if data is None:
        section.empty = "No audience segments yet: import them and the Audience agent reports here."
        return section
    people = sum(row.size for row, _ in data.rows)
    section.stats = [
        Stat("Segments", count(len(data.rows)), f"on {day(data.day)}"),
        Stat("People", count(people)),
        Stat(
            "At churn risk",
            count(len(data.at_risk)),
            f"segments above {percent(audience.CHURN_ALERT * 100)}",
            "bad" if data.at_risk else "neutral",
        ),
    ]

    def growth(row: SegmentDay, old: SegmentDay | None) -> Decimal | None:
        return percent_change(Decimal(row.size), Decimal(old.size)) if old else None

    changes = [
        f"{row.segment.name} {change(g)}"
        for row, old in data.rows
        if (g := growth(row, old)) is not None and g != 0
    ]
    section.lines.append(
        f"{count(len(data.rows))} segments, {count(people)} people on {day(data.day)}"
        + (f"; since {day(data.compared_to)}: {', '.join(changes)}." if changes else ".")
    )
    section.tables = [
        Table(
            f"Segments on {day(data.day)}",
            ("Segment", "People", f"Since {day(data.compared_to)}", "Churn risk", "LTV"),
            tuple(
                (
                    row.segment.name,
                    count(row.size),
                    change(g) if (g := growth(row, old)) is not None else "new",
                    percent(row.churn_risk * 100),
                    money(row.ltv),
                )
                for row, old in data.rows
            ),
            (False, True, True, True, True),
        )
    ]
    alerts = []
    for row, old in data.at_risk:
        trend = (
            f", up from {percent(old.churn_risk * 100)}"
            if old and old.churn_risk < row.churn_risk
            else ""
        )
        alerts.append(
            Alert(
                Priority.URGENT if row.churn_risk >= CHURN_URGENT else Priority.HIGH,
                f"{row.segment.name}: churn risk {percent(row.churn_risk * 100)}{trend}; "
                f"{count(row.size)} people worth {money(row.ltv)} each.",
            )
        )
    section.alerts = ranked_alerts(alerts, minimum)
    return section
