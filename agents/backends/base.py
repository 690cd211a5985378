"""What every agent backend takes and gives back.

`Backend.run(agent, message, context) -> AgentResult`. A backend never raises for a failure of
the outside world (timeouts, a broken flow): it returns an error result, so a turn always ends
with something to tell the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from accounts.models import Tenant
    from agents.models import AgentInstance, WalkerAgent

CONTEXT_MESSAGES = 10


@dataclass(frozen=True)
class ContextMessage:
    role: str  # "user", "agent", "human" or "system"
    text: str


@dataclass(frozen=True)
class AgentContext:
    """What a backend may know besides the message: the tenant, the agent instance, and the
    conversation's last messages (oldest first, at most CONTEXT_MESSAGES)."""

    tenant: Tenant
    instance: AgentInstance | None = None
    messages: tuple[ContextMessage, ...] = ()
    conversation_id: int | None = None
    session_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.messages) > CONTEXT_MESSAGES:
            object.__setattr__(self, "messages", tuple(self.messages[-CONTEXT_MESSAGES:]))


@dataclass(frozen=True)
class ProposedAction:
    """Something the agent wants done, which the policy may hold for approval.

    `requested`: the person asked for exactly this ("pause Search - Brand"). Anything else is
    the agent's suggestion: shown, and filed for a person to decide, but never carried out on
    its own, whatever the risk and the tenant's mode would allow."""

    action_type: str  # agents.types.ActionType
    title: str
    description: str
    data: dict[str, Any] = field(default_factory=dict)
    estimated_cost: Decimal | None = None  # USD
    estimated_reach: int | None = None  # people
    rationale: dict[str, Any] = field(default_factory=dict)  # the figures behind it
    requested: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "action_type": self.action_type,
            "title": self.title,
            "description": self.description,
            "data": self.data,
            "estimated_cost": str(self.estimated_cost) if self.estimated_cost is not None else None,
            "estimated_reach": self.estimated_reach,
            "rationale": self.rationale,
            "requested": self.requested,
        }


@dataclass(frozen=True)
class AgentResult:
    text: str
    confidence: float
    actions: tuple[ProposedAction, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: Decimal = Decimal("0")
    error: str = ""  # a short code ("timeout", "http_503", ...) when the run failed

    @property
    def ok(self) -> bool:
        return not self.error

    @classmethod
    def failure(cls, code: str, text: str, **metadata: Any) -> AgentResult:
        return cls(text=text, confidence=0.0, error=code, metadata=metadata)


class Backend(Protocol):
    @property
    def kind(self) -> str: ...

    def run(self, agent: WalkerAgent, message: str, context: AgentContext) -> AgentResult: ...


def estimate_tokens(text: str) -> int:
    """Roughly four characters a token, the usual rule of thumb for English text."""
    return max(1, len(text) // 4) if text else 0
