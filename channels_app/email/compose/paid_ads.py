"""The Paid Ads agent's section: spend against budget, ROAS, top campaigns, overspend alerts."""

from __future__ import annotations

from decimal import Decimal

from agents.backends.builtin import paid_ads
from agents.backends.builtin.common import change, count, day, money, percent, ratio
from agents.models import Campaign
from agents.types import AgentType
from channels_app.email.compose.data import TOP_SHOWN, PaidAdsData
from channels_app.email.compose.parts import Alert, BriefSection, Stat, Table, tone
from channels_app.email.compose.priority import ranked_alerts
from channels_app.email.models import Priority, Section

# Overspend alerts: at half again the daily budget it is urgent, not just high.
OVERSPEND_URGENT = Decimal("1.5")


def _share(part: Decimal, whole: Decimal) -> str:
    return percent(part * 100 / whole) if whole else "n/a"


def paid_ads_section(data: PaidAdsData | None, minimum: str) -> BriefSection:
    section = BriefSection(Section.PAID_ADS, "Paid ads", AgentType.PAID_ADS.label)
    if data is None:
        section.empty = "No ad campaign data yet: import it and the Paid Ads agent reports here."
        return section
    window = f"{day(data.window.start)} to {day(data.window.end)}"
    section.stats = [
        Stat(
            f"Spend on {day(data.day)}",
            money(data.spent),
            f"of {money(data.budget)} budget, {_share(data.spent, data.budget)}",
            "bad" if data.spent > data.budget else "neutral",
        ),
        Stat(
            "ROAS, last 7 days",
            ratio(data.now.roas),
            f"{change(data.roas_change)} vs {ratio(data.before.roas)} the week before"
            if data.roas_change is not None
            else "",
            tone(data.roas_change),
        ),
        Stat("Revenue, last 7 days", money(data.now.revenue), f"on {money(data.now.spend)} spend"),
        Stat(
            "Conversions, last 7 days",
            count(data.now.conversions),
            f"{money(data.now.cpa)} each" if data.now.cpa is not None else "",
        ),
    ]
    section.lines.append(
        f"Spent {money(data.spent)} of {money(data.budget)} budgeted on {day(data.day)} across "
        f"{count(data.active)} active campaigns."
    )
    if data.roas_change is not None:
        direction = "up" if data.roas_change > 0 else "down" if data.roas_change < 0 else "flat"
        section.lines.append(
            f"ROAS {ratio(data.now.roas)} over {window}, {direction} from "
            f"{ratio(data.before.roas)} ({change(data.roas_change)})."
        )
    elif data.now.spend:
        section.lines.append(f"ROAS {ratio(data.now.roas)} over {window}.")
    top = [pair for pair in data.ranked if pair[1].roas is not None][:TOP_SHOWN]
    if top:
        section.lines.append(
            "Top campaigns: " + "; ".join(f"{c.name} at {ratio(s.roas)}" for c, s in top) + "."
        )
    section.tables = [
        Table(
            f"ROAS by day, {window}",
            ("Day", "Spend", "Revenue", "ROAS"),
            tuple(
                (day(d), money(s.spend), money(s.revenue), ratio(s.roas))
                for d, s in data.daily.items()
            ),
            (False, True, True, True),
        ),
        Table(
            "Top campaigns, last 7 days",
            ("Campaign", "Platform", "Spend", "ROAS", "Target"),
            tuple(
                (
                    c.name,
                    c.get_platform_display(),
                    money(s.spend),
                    ratio(s.roas),
                    ratio(c.target_roas),
                )
                for c, s in top
            ),
            (False, False, True, True, True),
        ),
    ]
    alerts = [
        Alert(
            Priority.URGENT if spent >= c.daily_budget * OVERSPEND_URGENT else Priority.HIGH,
            f"{c.name} spent {money(spent)} of its {money(c.daily_budget)} daily budget on "
            f"{day(data.day)} ({_share(spent, c.daily_budget)} of budget).",
        )
        for c, spent in data.overspent
    ]
    for c, s in data.ranked:
        if c.status != Campaign.Status.ACTIVE or s.roas is None or s.roas >= c.target_roas:
            continue
        losing = s.roas < paid_ads.PAUSE_BELOW_ROAS
        alerts.append(
            Alert(
                Priority.HIGH if losing else Priority.MEDIUM,
                f"{c.name}: ROAS {ratio(s.roas)} over the last 7 days, under its "
                f"{ratio(c.target_roas)} target"
                + (f"; it returned {money(s.revenue)} on {money(s.spend)}." if losing else "."),
            )
        )
    section.alerts = ranked_alerts(alerts, minimum)
    return section
