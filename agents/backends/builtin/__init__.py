"""The built-in backend: answers from the tenant's own marketing data, with no outside service.

Each message is understood first (agents.understanding: intent and slots, with what the
conversation already established), then answered by its agent: a question with its figure for
the scope and period asked, a command with the one action it asks for, a request for content
with drafts, and anything off-topic with a short decline that says what the agent can do.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from agents.backends.base import AgentContext, AgentResult, estimate_tokens
from agents.backends.builtin import audience, content, paid_ads, personal, seo
from agents.backends.builtin.common import ANSWERED, MAX_SUGGESTIONS, AgentAnswerer, Answer
from agents.models import WalkerAgent
from agents.types import AgentType, BackendKind
from agents.understanding import Intent, Request
from agents.understanding.context import message_understood

ANSWERERS: dict[str, AgentAnswerer] = {
    AgentType.PAID_ADS: paid_ads.answer,
    AgentType.SEO: seo.answer,
    AgentType.CONTENT: content.answer,
    AgentType.AUDIENCE: audience.answer,
    AgentType.PERSONAL: personal.answer,
}

# What each agent offers, for the decline of an off-topic message.
CAN_DO: dict[str, str] = {
    AgentType.PAID_ADS: (
        "your ad campaigns' spend, ROAS and conversions for any period, and pausing, resuming "
        "or re-budgeting them"
    ),
    AgentType.SEO: "your search rankings, organic traffic and the keywords within reach",
    AgentType.CONTENT: "what your content earns, what to publish next, and drafting posts",
    AgentType.AUDIENCE: "your audience segments: size, lifetime value, churn risk and exports",
    AgentType.PERSONAL: "what needs your attention across your marketing",
}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


GREETING = re.compile(r"^\W*(hi|hello|hey|hiya|good (morning|afternoon|evening)|yo)\b", re.I)
COUNTING = re.compile(r"\W*how (many|much)\b", re.I)
THANKS = re.compile(r"\b(thanks|thank you|thx|ty|cheers|much appreciated)\b", re.I)


def decline(agent: WalkerAgent, message: str) -> Answer:
    """Off-topic: a short, polite answer that says what the agent does; never an action."""
    offer = CAN_DO.get(agent.agent_type, "your marketing data")
    if THANKS.search(message):
        return Answer(f"You're welcome! Ask me any time about {offer}.", {"skill": "thanks"})
    if GREETING.match(message):
        return Answer(f"Hi! I'm the {agent.name}: ask me about {offer}.", {"skill": "greeting"})
    return Answer(
        f"That's outside what I can help with: I'm the {agent.name}, and I answer about {offer}.",
        {"skill": "decline"},
    )


def only_what_was_asked(answer: Answer, request: Request) -> Answer:
    """A command keeps only the action it asked for; other answers keep at most the agents' few
    suggestions, never marked requested."""
    if request.intent == Intent.COMMAND:
        answer.actions = [a for a in answer.actions if a.requested]
    elif COUNTING.match(request.text):
        answer.actions = []  # "how many ...?" asks for a count, not for advice
    else:
        answer.actions = [replace(a, requested=False) for a in answer.actions][:MAX_SUGGESTIONS]
    return answer


class BuiltinBackend:
    kind = BackendKind.BUILTIN

    def run(self, agent: WalkerAgent, message: str, context: AgentContext) -> AgentResult:
        request = message_understood(message, context, agent_type=agent.agent_type)
        if request.intent == Intent.OUT_OF_SCOPE:
            answer, confidence = decline(agent, message), ANSWERED
        else:
            answer, confidence = ANSWERERS[agent.agent_type](context.tenant, request, context)
        answer = only_what_was_asked(answer, request)
        prompt = message + "".join(m.text for m in context.messages)
        figures = _jsonable(answer.figures)
        return AgentResult(
            text=answer.text,
            confidence=confidence,
            actions=tuple(answer.actions),
            metadata={
                "request": request.as_dict(),
                "scope": figures.get("scope"),
                "period": figures.get("period"),
                "figures": figures,
                "has_data": answer.has_data,
            },
            tokens_in=estimate_tokens(prompt),
            tokens_out=estimate_tokens(answer.text),
            cost_usd=Decimal("0"),
        )
