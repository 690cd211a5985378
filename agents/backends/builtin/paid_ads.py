"""Paid Ads agent: performance, pacing and rankings from CampaignDay rows, and the budget moves
the numbers call for."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import AgentContext, ProposedAction
from agents.backends.builtin import ad_figures, campaign_commands
from agents.backends.builtin.common import (
    ANSWERED,
    MAX_SUGGESTIONS,
    NO_DATA,
    UNMATCHED,
    Answer,
    Skill,
    best_skill,
    change,
    confidence,
    count,
    day,
    money,
    percent,
    percent_change,
    ratio,
)
from agents.models import Campaign, Platform
from agents.selectors import AdStats, Window
from agents.types import ActionType
from agents.understanding import Intent, Request
from agents.understanding.context import WHICH, last_suggestions

WINDOW_DAYS = 7
MONTH_DAYS = 30
# A campaign whose ROAS beats its target by this factor while spending nearly all of its budget
# is held back by the budget: more budget should buy more of the same.
SCALE_UP_FACTOR = Decimal("1.2")
BUDGET_USED = Decimal("0.9")
BUDGET_STEP = Decimal("1.2")
# Below break-even: every dollar spent returns less than a dollar.
PAUSE_BELOW_ROAS = Decimal("1.0")

PLATFORM_WORDS = {
    "meta": Platform.META,
    "facebook": Platform.META,
    "instagram": Platform.META,
    "fb": Platform.META,
    "tiktok": Platform.TIKTOK,
    "google": Platform.GOOGLE_ADS,
    "adwords": Platform.GOOGLE_ADS,
    "linkedin": Platform.LINKEDIN,
}


def detect_platform(message: str) -> str | None:
    lowered = message.lower()
    for word, platform in PLATFORM_WORDS.items():
        if word in lowered:
            return platform
    return None


def _latest_day(tenant: Tenant) -> date:
    # The skills run only once answer() has found campaign days, so there is a latest day.
    return cast(date, selectors.latest_ad_day(tenant))


def _scope_label(platform: str | None, campaign: Campaign | None) -> str:
    if campaign:
        return f"{campaign.name} ({campaign.get_platform_display()})"
    if platform:
        return Platform(platform).label
    return "All campaigns"


def performance(
    tenant: Tenant,
    message: str,
    platform: str | None,
    campaign: Campaign | None,
    *,
    window: Window | None = None,
    period_label: str = "",
) -> Answer:
    end = _latest_day(tenant)
    window = window or selectors.window_ending(end, WINDOW_DAYS)
    period_label = (
        period_label or f"last {WINDOW_DAYS} days ({day(window.start)} to {day(window.end)})"
    )
    previous_label = "the week before" if window.days == 7 else f"the {window.days} days before"
    now = selectors.ad_stats(tenant=tenant, window=window, platform=platform, campaign=campaign)
    before = selectors.ad_stats(
        tenant=tenant, window=window.previous(), platform=platform, campaign=campaign
    )
    label = _scope_label(platform, campaign)
    if not now.spend:
        return Answer(f"{label}: no spend in {period_label}.", {"spend": now.spend})
    figures: dict[str, Any] = {"spend": now.spend, "revenue": now.revenue, "roas": now.roas}
    lines = [
        f"{label}, {period_label}: "
        f"spend {money(now.spend)}, revenue {money(now.revenue)}, ROAS {ratio(now.roas)}."
    ]
    if before.roas is not None and now.roas is not None:
        trend = percent_change(now.roas, before.roas)
        figures.update(previous_roas=before.roas, roas_change=trend)
        if trend is None:
            # From a ROAS of zero there is no percentage change to state.
            direction = "up" if now.roas > 0 else "flat"
            lines.append(f"ROAS is {direction} from {ratio(before.roas)} {previous_label}.")
        else:
            direction = "up" if trend > 0 else "down" if trend < 0 else "flat"
            lines.append(
                f"ROAS is {direction} from {ratio(before.roas)} {previous_label} ({change(trend)})."
            )
    # The cost per acquisition exists exactly when there are conversions.
    if now.conversions and (cpa := now.cpa) is not None:
        figures.update(conversions=now.conversions, cpa=cpa)
        lines.append(f"{count(now.conversions)} conversions at {money(cpa)} each.")
    by_campaign = selectors.ad_stats_by_campaign(tenant=tenant, window=window, platform=platform)
    listed = selectors.campaigns(tenant, platform)
    if campaign is None:
        ranked = _ranked(listed, by_campaign)
        if len(ranked) > 1:
            best, worst = ranked[0], ranked[-1]
            figures.update(best_campaign=best[0].name, best_roas=best[1].roas)
            lines.append(f"Best: {best[0].name} at {ratio(best[1].roas)}.")
            figures.update(worst_campaign=worst[0].name, worst_roas=worst[1].roas)
            lines.append(f"Weakest: {worst[0].name} at {ratio(worst[1].roas)}.")
    answer = Answer(" ".join(lines), figures)
    answer.actions = suggestions(
        proposals(
            tenant, window, platform=platform, campaign=campaign, computed=(listed, by_campaign)
        )
    )
    _describe_actions(answer)
    return answer


def _ranked(
    listed: list[Campaign], by_campaign: dict[int, AdStats]
) -> list[tuple[Campaign, AdStats]]:
    names = {c.pk: c for c in listed}
    pairs = [(names[pk], stats) for pk, stats in by_campaign.items() if stats.roas is not None]
    return sorted(pairs, key=lambda pair: (-pair[1].roas, pair[0].name))  # type: ignore[operator]


def pacing(tenant: Tenant, message: str, platform: str | None, campaign: Campaign | None) -> Answer:
    end = _latest_day(tenant)
    spent = selectors.spend_on(tenant, end)
    active = [
        c
        for c in selectors.campaigns(tenant, platform)
        if c.status == Campaign.Status.ACTIVE and (campaign is None or c.pk == campaign.pk)
    ]
    total_spent = sum((spent.get(c.pk, Decimal("0")) for c in active), Decimal("0"))
    total_budget = sum((c.daily_budget for c in active), Decimal("0"))
    label = _scope_label(platform, campaign)
    lines = [
        f"{label} on {day(end)}: spent {money(total_spent)} of {money(total_budget)} budgeted "
        f"across {count(len(active))} active campaigns."
    ]
    over = [c for c in active if spent.get(c.pk, Decimal("0")) > c.daily_budget]
    if over:
        lines.append(
            "Over budget: "
            + "; ".join(f"{c.name} {money(spent[c.pk])} of {money(c.daily_budget)}" for c in over)
            + "."
        )
    else:
        lines.append("No campaign went over its daily budget.")
    return Answer(
        " ".join(lines),
        {"spent": total_spent, "budget": total_budget, "over_budget": [c.name for c in over]},
    )


def ranking(
    tenant: Tenant, message: str, platform: str | None, campaign: Campaign | None
) -> Answer:
    end = _latest_day(tenant)
    window = selectors.window_ending(end, WINDOW_DAYS)
    ranked = _ranked(
        selectors.campaigns(tenant, platform),
        selectors.ad_stats_by_campaign(tenant=tenant, window=window, platform=platform),
    )
    if not ranked:
        return Answer(f"No campaign spent anything in the last {WINDOW_DAYS} days.")
    label = _scope_label(platform, None)
    lines = [f"{label} by ROAS, last {WINDOW_DAYS} days:"]
    lines += [
        f"- {c.name} ({c.get_platform_display()}): {ratio(s.roas)} on {money(s.spend)} spend"
        for c, s in ranked
    ]
    return Answer("\n".join(lines), {"ranking": [(c.name, s.roas) for c, s in ranked]})


def recommend(
    tenant: Tenant, message: str, platform: str | None, campaign: Campaign | None
) -> Answer:
    end = _latest_day(tenant)
    window = selectors.window_ending(end, WINDOW_DAYS)
    answer = Answer("", {})
    answer.actions = suggestions(proposals(tenant, window, platform=platform, campaign=campaign))
    if not answer.actions:
        answer.text = (
            f"Nothing to change: over the last {WINDOW_DAYS} days no campaign is both beating its "
            "target and held back by its budget, and none is losing money."
        )
        return answer
    _describe_actions(answer, lead="My recommendations:")
    return answer


def proposals(
    tenant: Tenant,
    window: Window,
    *,
    platform: str | None,
    campaign: Campaign | None,
    computed: tuple[list[Campaign], dict[int, AdStats]] | None = None,
) -> list[ProposedAction]:
    """The budget moves the last window calls for. `computed` passes in the campaign list and
    per-campaign stats when the caller already has them for the same window and platform."""
    listed, by_campaign = computed or (
        selectors.campaigns(tenant, platform),
        selectors.ad_stats_by_campaign(tenant=tenant, window=window, platform=platform),
    )
    actions = []
    for item in listed:
        if item.status != Campaign.Status.ACTIVE or (campaign and item.pk != campaign.pk):
            continue
        stats = by_campaign.get(item.pk)
        if not stats or not stats.spend or stats.roas is None:
            continue
        avg_spend = (stats.spend / window.days).quantize(Decimal("0.01"))
        used = avg_spend / item.daily_budget if item.daily_budget else Decimal("0")
        if stats.roas >= item.target_roas * SCALE_UP_FACTOR and used >= BUDGET_USED:
            actions.append(_budget_increase(item, stats, window, avg_spend, used))
        elif stats.roas < PAUSE_BELOW_ROAS:
            actions.append(_pause(item, stats, window))
    return actions


def suggestions(actions: list[ProposedAction]) -> list[ProposedAction]:
    """At most MAX_SUGGESTIONS of the moves: the first budget increase and the first pause (the
    proposals come in the campaigns' order), so an answer suggests, it does not flood the queue."""
    picked: list[ProposedAction] = []
    for kind in (ActionType.BUDGET_INCREASE, ActionType.CAMPAIGN_PAUSE):
        picked += [a for a in actions if a.action_type == kind][:1]
    return picked[:MAX_SUGGESTIONS]


def _budget_increase(
    item: Campaign, stats: AdStats, window: Window, avg_spend: Decimal, used: Decimal
) -> ProposedAction:
    new_budget = (item.daily_budget * BUDGET_STEP).quantize(Decimal("1"), ROUND_HALF_UP)
    extra_month = (new_budget - item.daily_budget) * MONTH_DAYS
    cost_per_impression = stats.spend / stats.impressions if stats.impressions else None
    reach = int(extra_month / cost_per_impression) if cost_per_impression else None
    used_percent = (used * 100).quantize(Decimal("1"), ROUND_HALF_UP)
    return ProposedAction(
        action_type=ActionType.BUDGET_INCREASE,
        title=f"Raise {item.name}'s daily budget to {money(new_budget)}",
        description=(
            f"Raise {item.name}'s daily budget from {money(item.daily_budget)} to "
            f"{money(new_budget)}: its ROAS of {ratio(stats.roas)} beats the "
            f"{ratio(item.target_roas)} target and it used {percent(used_percent)} of its budget."
        ),
        data={
            "campaign_id": item.pk,
            "platform": item.platform,
            "current_daily_budget": str(item.daily_budget),
            "new_daily_budget": str(new_budget),
        },
        estimated_cost=extra_month.quantize(Decimal("0.01")),
        estimated_reach=reach,
        rationale={
            "window": [window.start.isoformat(), window.end.isoformat()],
            "roas": str(stats.roas),
            "target_roas": str(item.target_roas),
            "budget_used_percent": str(used_percent),
            "average_daily_spend": str(avg_spend),
        },
    )


def _pause(item: Campaign, stats: AdStats, window: Window) -> ProposedAction:
    monthly_impressions = stats.impressions * MONTH_DAYS // window.days
    return ProposedAction(
        action_type=ActionType.CAMPAIGN_PAUSE,
        title=f"Pause {item.name}",
        description=(
            f"Pause {item.name}: it returned {money(stats.revenue)} on {money(stats.spend)} "
            f"(ROAS {ratio(stats.roas)}) in the last {window.days} days."
        ),
        data={"campaign_id": item.pk, "platform": item.platform},
        estimated_cost=Decimal("0.00"),
        estimated_reach=monthly_impressions,
        rationale={
            "window": [window.start.isoformat(), window.end.isoformat()],
            "spend": str(stats.spend),
            "revenue": str(stats.revenue),
            "roas": str(stats.roas),
        },
    )


def _describe_actions(answer: Answer, lead: str = "Suggested:") -> None:
    if answer.actions:
        described = " ".join(action.description for action in answer.actions)
        answer.text = f"{answer.text} {lead} {described}".strip()
        answer.text += " Nothing changes unless a person approves it."


SKILLS = [
    Skill(
        "performance",
        {
            "perform": 0.5,
            "roas": 0.5,
            "how": 0.2,
            "doing": 0.3,
            "trend": 0.4,
            "result": 0.3,
            "revenue": 0.3,
            "return": 0.3,
            "week": 0.1,
        },
        performance,
    ),
    Skill(
        "pacing",
        {
            "budget": 0.5,
            "spend": 0.3,
            "spent": 0.4,
            "pacing": 0.6,
            "overspend": 0.7,
            "over budget": 0.6,
            "yesterday": 0.2,
        },
        pacing,
    ),
    Skill(
        "ranking",
        {
            "best": 0.5,
            "worst": 0.5,
            "top": 0.4,
            "rank": 0.4,
            "compare": 0.4,
            "which campaign": 0.4,
            "lowest": 0.4,
            "highest": 0.4,
        },
        ranking,
    ),
    Skill(
        "recommend",
        {
            "recommend": 0.7,
            "should": 0.4,
            "optimi": 0.6,
            "improve": 0.5,
            "increase": 0.4,
            "scale": 0.5,
            "suggest": 0.6,
            "what do": 0.3,
            "pause": 0.5,
        },
        recommend,
    ),
]


def answer(tenant: Tenant, request: Request, context: AgentContext) -> tuple[Answer, float]:
    latest = selectors.latest_ad_day(tenant)
    if latest is None:
        return Answer(
            "I have no ad campaign data for you yet: import it first.", has_data=False
        ), NO_DATA
    if request.intent == Intent.COMMAND and request.confirm and request.verb is None:
        suggested = last_suggestions(context)
        if suggested:
            listed = "; ".join(f"{n}. {title}" for n, title in enumerate(suggested, 1))
            return Answer(
                f"{WHICH} {listed}. Tell me its number.",
                {"skill": "which_suggestion", "candidates": suggested},
            ), ANSWERED
    if request.intent == Intent.COMMAND:
        result = campaign_commands.command(tenant, request)
        result.figures["skill"] = "command"
        return result, ANSWERED
    if request.intent == Intent.CONTENT:
        return Answer(
            "Writing posts is the Content agent's work: switch to it and ask again. I can tell "
            "you how your ads perform, or change a campaign's budget or status.",
            {"skill": "handoff"},
        ), ANSWERED
    return question(tenant, request, latest)


# Who answers the metrics this agent's data lacks.
OTHER_AGENTS = {
    "rankings": "The SEO agent",
    "traffic": "The SEO agent",
    "engagement": "The Content agent",
    "churn": "The Audience agent",
    "ltv": "The Audience agent",
    "size": "The Audience agent",
}


def question(tenant: Tenant, request: Request, latest: date) -> tuple[Answer, float]:
    """A question answered for the scope and period asked. A named campaign the data lacks gets
    "did you mean ...?"; a metric gets its figure; the rest, the skill the words call for."""
    match = request.campaign
    if match and not match.found and not match.candidates and match.asked:
        return campaign_commands.unknown(match), ANSWERED
    campaign = None
    if match and match.found:
        campaign = Campaign.objects.for_tenant(tenant).filter(pk=match.found.id).first()
    platform = campaign.platform if campaign else request.platform
    if platform is None and match and match.candidates:
        platforms = {c.platform for c in match.candidates}
        if len(platforms) > 1:
            # "The shopping campaign" on two platforms: no one figure answers that.
            return Answer(
                f"Which campaign do you mean? {campaign_commands.numbered(match.candidates)}.",
                {"skill": "which_campaign", "candidates": [c.name for c in match.candidates]},
            ), ANSWERED
        platform = platforms.pop()
    period = ad_figures.period_or_default(request, latest)
    window = Window(period.start, min(period.end, latest))
    scope = ad_figures.scope_of(platform, campaign)
    skill, score = best_skill(request.text, SKILLS)
    ranks_campaigns = skill.name == "ranking" and request.metric in (None, "rankings", "roas")
    if (
        request.metric
        and request.metric not in ad_figures.AD_METRICS | {"budget"}
        and not ranks_campaigns
    ):
        # In the agents' field, but not in this agent's data: a person should look at it.
        owner = OTHER_AGENTS.get(request.metric, "another agent")
        return Answer(
            f"I don't have {request.metric} figures: I read your ad campaigns. {owner} does.",
            {"skill": "not_mine", "metric": request.metric},
        ), UNMATCHED
    if request.metric in ad_figures.AD_METRICS and not ranks_campaigns:
        result = ad_figures.figure(
            tenant, metric=request.metric, scope=scope, period=period, latest=latest
        )
        result.figures["skill"] = "figure"
        return result, ANSWERED if result.has_data else NO_DATA
    if request.metric == "budget" or skill.name == "pacing":
        result = pacing(tenant, request.text, platform, campaign)
    elif skill.name == "recommend":
        result = recommend(tenant, request.text, platform, campaign)
    elif skill.name == "ranking":
        result = ranking(tenant, request.text, platform, campaign)
    elif window.end < window.start:
        result = ad_figures.figure(
            tenant, metric="spend", scope=scope, period=period, latest=latest
        )
    else:
        result = performance(
            tenant,
            request.text,
            platform,
            campaign,
            window=window,
            period_label=ad_figures.when(period),
        )
    result.figures.update(skill=skill.name, scope=scope.as_dict(), period=period.as_dict())
    in_field = score > 0 or request.metric is not None or platform is not None or campaign
    return result, ANSWERED if in_field else confidence(score, result)
