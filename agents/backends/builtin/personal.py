"""Personal agent: one look across the other agents' data, for "what needs my attention?".
The daily brief builds on the same answers."""

from __future__ import annotations

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import AgentContext
from agents.backends.builtin import ad_figures, audience, paid_ads, seo
from agents.backends.builtin.common import ANSWERED, Answer, Skill, best_skill, confidence
from agents.understanding import Intent, Request


def attention(tenant: Tenant, message: str) -> Answer:
    parts: list[Answer] = []
    if selectors.latest_ad_day(tenant) is not None:
        parts.append(paid_ads.performance(tenant, message, None, None))
    if selectors.latest_keyword_day(tenant) is not None:
        parts.append(seo.rankings(tenant, message, None))
    if selectors.latest_segment_day(tenant) is not None:
        parts.append(audience.churn(tenant, message, None))
    if not parts:
        return Answer("I have no marketing data of yours yet.", has_data=False)
    return Answer(
        "\n\n".join(part.text for part in parts),
        {"sections": len(parts)},
        actions=[action for part in parts for action in part.actions],
    )


AUDIENCE_METRICS = frozenset({"churn", "ltv", "size"})
SEO_METRICS = frozenset({"rankings", "traffic"})

SKILLS = [
    Skill(
        "attention",
        {
            "attention": 0.6,
            "summary": 0.6,
            "brief": 0.6,
            "overview": 0.5,
            "what's new": 0.5,
            "update": 0.4,
            "today": 0.3,
        },
        attention,
    ),
]


def answer(tenant: Tenant, request: Request, context: AgentContext) -> tuple[Answer, float]:
    if request.intent in (Intent.COMMAND, Intent.CONTENT):
        return Answer(
            "I keep you up to date across your marketing. To change a campaign, publish or "
            "export, ask the Paid Ads, Content or Audience agent.",
            {"skill": "handoff"},
        ), ANSWERED
    # A question about one figure gets that figure, from the agent whose data holds it.
    if request.metric in ad_figures.AD_METRICS and selectors.latest_ad_day(tenant) is not None:
        return paid_ads.answer(tenant, request, context)
    if request.segment is not None or request.metric in AUDIENCE_METRICS:
        return audience.answer(tenant, request, context)
    if request.metric in SEO_METRICS:
        return seo.answer(tenant, request, context)
    skill, score = best_skill(request.text, SKILLS)
    result = skill.handler(tenant, request.text)
    return result, confidence(score, result)
