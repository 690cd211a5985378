"""Paid ads commands: "pause X", "resume X", "raise X by $50", "set X to $600 a day", "by 20%".

A command becomes exactly one proposed action carrying what was asked, marked `requested`; hitl
decides whether it runs at once or waits for a person. What cannot become an action gets a
question instead: which campaign (naming the candidates), by how much, or "did you mean ...?".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from accounts.models import Tenant
from agents.backends.base import ProposedAction
from agents.backends.builtin.common import Answer, money, not_found
from agents.models import Campaign, Platform
from agents.types import ActionType
from agents.understanding import Amount, Named, NameMatch, Request, Verb

MONTH_DAYS = 30
CENT = Decimal("0.01")
# How many campaigns a "which one?" lists before it says "and N more".
LISTED = 15
BUDGET_VERBS = frozenset({Verb.RAISE, Verb.LOWER, Verb.SET})


def command(tenant: Tenant, request: Request) -> Answer:
    verb = request.verb
    if verb not in BUDGET_VERBS and verb not in (Verb.PAUSE, Verb.RESUME):
        return Answer(
            "I manage your ad campaigns: I can pause or resume a campaign, or change its daily "
            "budget. Publishing content and exporting segments are the Content and Audience "
            "agents' work.",
            {"command": str(verb) if verb else None},
        )
    campaign, ask = _campaign(tenant, request)
    if campaign is None:
        return ask
    if verb == Verb.PAUSE:
        return _pause(campaign)
    if verb == Verb.RESUME:
        return _resume(campaign)
    return _budget(campaign, request)


def _campaign(tenant: Tenant, request: Request) -> tuple[Campaign | None, Answer]:
    """The campaign the command is about, or the question to ask instead."""
    match = request.campaign
    if match and match.found:
        found = Campaign.objects.for_tenant(tenant).filter(pk=match.found.id).first()
        if found is not None:
            return found, Answer("")
    if match and match.candidates:
        return None, _which(match.candidates, request)
    if match and match.asked:
        return None, unknown(match)
    candidates = _platform_candidates(tenant, request)
    if len(candidates) == 1:
        return candidates[0], Answer("")
    rows = tuple(
        Named(id=c.pk, name=c.name, kind="campaign", platform=c.platform, status=c.status)
        for c in candidates
    )
    return None, _which(rows, request)


def _platform_candidates(tenant: Tenant, request: Request) -> list[Campaign]:
    rows = Campaign.objects.for_tenant(tenant).exclude(status=Campaign.Status.ENDED)
    if request.platform:
        rows = rows.filter(platform=request.platform)
    wanted = Campaign.Status.PAUSED if request.verb == Verb.RESUME else Campaign.Status.ACTIVE
    preferred = [c for c in rows.order_by("platform", "name") if c.status == wanted]
    return preferred or list(rows.order_by("platform", "name"))


def numbered(candidates: tuple[Named, ...]) -> str:
    """ "1. Search - Brand (Google Ads); 2. ...", the first LISTED of them."""
    listed = "; ".join(
        f"{n}. {c.name} ({Platform(c.platform).label if c.platform else ''})".replace(" ()", "")
        for n, c in enumerate(candidates[:LISTED], start=1)
    )
    more = f"; and {len(candidates) - LISTED} more" if len(candidates) > LISTED else ""
    return listed + more


def _which(candidates: tuple[Named, ...], request: Request) -> Answer:
    what = _doing(request)
    return Answer(
        f"Which campaign should I {what}? {numbered(candidates)}. Tell me its name or its number.",
        {"candidates": [c.name for c in candidates], "command": str(request.verb)},
    )


def _doing(request: Request) -> str:
    return {
        Verb.PAUSE: "pause",
        Verb.RESUME: "resume",
        Verb.RAISE: "raise the budget of",
        Verb.LOWER: "lower the budget of",
        Verb.SET: "set the budget of",
    }.get(request.verb or Verb.PAUSE, "change")


def unknown(match: NameMatch) -> Answer:
    text = not_found(
        "a campaign", match, otherwise=" Ask me which campaigns you have, and I'll list them."
    )
    return Answer(
        text,
        {"unknown": match.asked, "suggestion": match.suggestion.name if match.suggestion else None},
    )


def _pause(campaign: Campaign) -> Answer:
    if campaign.status != Campaign.Status.ACTIVE:
        return Answer(
            f"{campaign.name} is already {campaign.get_status_display().lower()}: "
            "nothing to pause.",
            {"campaign": campaign.name, "status": campaign.status},
        )
    action = ProposedAction(
        action_type=ActionType.CAMPAIGN_PAUSE,
        title=f"Pause {campaign.name}",
        description=f"Pause {campaign.name} ({campaign.get_platform_display()}), as you asked.",
        data={"campaign_id": campaign.pk, "platform": campaign.platform},
        estimated_cost=Decimal("0.00"),
        rationale={"asked": "pause"},
        requested=True,
    )
    return Answer(
        f"Pausing {campaign.name} ({campaign.get_platform_display()}): it stops spending its "
        f"{money(campaign.daily_budget)} a day.",
        {"campaign": campaign.name, "daily_budget": campaign.daily_budget},
        actions=[action],
    )


def _resume(campaign: Campaign) -> Answer:
    if campaign.status != Campaign.Status.PAUSED:
        state = "running" if campaign.status == Campaign.Status.ACTIVE else "ended"
        return Answer(
            f"{campaign.name} is {state}: there is nothing to resume.",
            {"campaign": campaign.name, "status": campaign.status},
        )
    monthly = (campaign.daily_budget * MONTH_DAYS).quantize(CENT)
    action = ProposedAction(
        action_type=ActionType.CAMPAIGN_RESUME,
        title=f"Resume {campaign.name}",
        description=(
            f"Resume {campaign.name} ({campaign.get_platform_display()}) at its "
            f"{money(campaign.daily_budget)} daily budget, as you asked."
        ),
        data={"campaign_id": campaign.pk, "platform": campaign.platform},
        estimated_cost=monthly,
        rationale={"asked": "resume", "daily_budget": str(campaign.daily_budget)},
        requested=True,
    )
    return Answer(
        f"Resuming {campaign.name}: at {money(campaign.daily_budget)} a day it will spend about "
        f"{money(monthly)} a month.",
        {"campaign": campaign.name, "daily_budget": campaign.daily_budget, "monthly": monthly},
        actions=[action],
    )


def new_budget(current: Decimal, verb: Verb, amount: Amount) -> Decimal:
    """The daily budget the command asks for."""
    sign = Decimal(-1) if verb == Verb.LOWER else Decimal(1)
    if amount.mode == "to" or verb == Verb.SET:
        value = amount.value
    elif amount.mode == "percent":
        value = current * (1 + sign * amount.value / 100)
    else:
        value = current + sign * amount.value
    return value.quantize(CENT, ROUND_HALF_UP)


def _budget(campaign: Campaign, request: Request) -> Answer:
    verb = request.verb or Verb.SET
    amount = request.amount
    if amount is None:
        return Answer(
            f"By how much should I change {campaign.name}'s daily budget (now "
            f"{money(campaign.daily_budget)})? Say, for example, “by $50” or “to $600 a day”.",
            {"campaign": campaign.name, "daily_budget": campaign.daily_budget},
        )
    current = campaign.daily_budget
    budget = new_budget(current, verb, amount)
    if budget < 0:
        return Answer(
            f"{campaign.name}'s daily budget is {money(current)}: it cannot go below zero.",
            {"campaign": campaign.name, "daily_budget": current},
        )
    if budget == current:
        return Answer(
            f"{campaign.name}'s daily budget is {money(current)} already: nothing to change.",
            {"campaign": campaign.name, "daily_budget": current},
        )
    difference = budget - current
    monthly = (difference * MONTH_DAYS).quantize(CENT)
    raising = difference > 0
    verb_word = "Raise" if raising else "Lower"
    action = ProposedAction(
        action_type=ActionType.BUDGET_INCREASE if raising else ActionType.BUDGET_ALLOCATION,
        title=f"{verb_word} {campaign.name}'s daily budget to {money(budget)}",
        description=(
            f"{verb_word} {campaign.name}'s daily budget from {money(current)} to "
            f"{money(budget)}, as you asked."
        ),
        data={
            "campaign_id": campaign.pk,
            "platform": campaign.platform,
            "current_daily_budget": str(current),
            "new_daily_budget": str(budget),
        },
        estimated_cost=monthly if raising else Decimal("0.00"),
        rationale={"asked": request.text[:200], "change_per_day": str(difference)},
        requested=True,
    )
    change = f"{'+' if raising else '-'}{money(abs(difference))} a day, about {money(abs(monthly))}"
    return Answer(
        f"{verb_word} {campaign.name}'s daily budget from {money(current)} to {money(budget)} "
        f"({change} {'more' if raising else 'less'} a month).",
        {
            "campaign": campaign.name,
            "daily_budget": current,
            "new_daily_budget": budget,
            "monthly_change": monthly,
        },
        actions=[action],
    )
