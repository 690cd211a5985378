"""The built-in backend: answers from the tenant's own marketing data, with no outside service."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from agents.backends.base import AgentContext, AgentResult, estimate_tokens
from agents.backends.builtin import audience, content, paid_ads, personal, seo
from agents.backends.builtin.common import AgentAnswerer
from agents.models import WalkerAgent
from agents.types import AgentType, BackendKind

ANSWERERS: dict[str, AgentAnswerer] = {
    AgentType.PAID_ADS: paid_ads.answer,
    AgentType.SEO: seo.answer,
    AgentType.CONTENT: content.answer,
    AgentType.AUDIENCE: audience.answer,
    AgentType.PERSONAL: personal.answer,
}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class BuiltinBackend:
    kind = BackendKind.BUILTIN

    def run(self, agent: WalkerAgent, message: str, context: AgentContext) -> AgentResult:
        answer, confidence = ANSWERERS[agent.agent_type](context.tenant, message, context)
        prompt = message + "".join(m.text for m in context.messages)
        return AgentResult(
            text=answer.text,
            confidence=confidence,
            actions=tuple(answer.actions),
            metadata={"figures": _jsonable(answer.figures), "has_data": answer.has_data},
            tokens_in=estimate_tokens(prompt),
            tokens_out=estimate_tokens(answer.text),
            cost_usd=Decimal("0"),
        )
