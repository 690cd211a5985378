"""The Langflow backend: runs a tenant's agent as a Langflow flow over Langflow's HTTP API.

Request (Langflow docs, "Flow trigger endpoints", `POST /api/v1/run/$FLOW_ID`)::

    POST {LANGFLOW_API_URL}/api/v1/run/{flow_id}?stream=false
    x-api-key: {LANGFLOW_API_KEY}            (sent only when the key is set)
    Content-Type: application/json

    {"input_value": <the person's message>, "input_type": "chat", "output_type": "chat",
     "session_id": <see below>, "tweaks": {"EnGardeContext": {...}}}

The flow id is the agent instance's `flow_id`. The session id is the context's `session_id`;
without one it is `engarde-<tenant id>-<conversation id>`, so Langflow's chat memory follows
the conversation and never mixes tenants (Langflow falls back to the flow id, shared by every
tenant running that flow). A run outside any conversation gets a fresh random session.

Context for flow authors. Langflow applies a tweak whose key is a component's id or display
name to that component, and sets only the fields the component declares (others are ignored,
so flows without it still run). Add a component named `EnGardeContext` (the name is the setting
`LANGFLOW_CONTEXT_COMPONENT`) declaring any of these fields:

    tenant_slug, tenant_name       the tenant the person belongs to
    agent_type, agent_name         the Walker agent answering (`seo_optimization`, ...)
    conversation_id                the conversation's id, "" outside one
    history                        the last messages, oldest first, at most 10, each
                                   {"role": "user" | "agent" | "human" | "system", "text": ...}
    history_text                   the same as "role: text" lines, for prompt templates
    intent                         what the message asks, as the built-in agents understand it:
                                   "question", "command", "content" or "out_of_scope"
    slots                          the rest of that understanding (agents.understanding's
                                   Request.as_dict(): verb, campaign, platform, metric,
                                   period, amount, content, segment, count, topic, ...)

Response (`RunResponse`: `{"session_id", "outputs": [{"inputs", "outputs": [ResultData]}]}`):
the reply is the first output component's `results.message.text` (a Chat Output), else the
`text` of its other results (a Text Output's result is named `text`), else `messages[0].message`,
else `artifacts.message`. Token counts come from the message's `properties.usage`
(`input_tokens`, `output_tokens`, `total_tokens`, reported by recent Langflow versions); without
them they are estimated from the text. Cost is tokens x LANGFLOW_COST_PER_1K_TOKENS / 1000.

Confidence and actions. A flow may answer with a JSON object instead of plain text (a Markdown
```json fence around it is tolerated):

    {"text": "the reply", "confidence": 0.82,
     "actions": [{"action_type": "budget_increase", "title": ..., "description": ...,
                  "data": {...}, "estimated_cost": 150.0, "estimated_reach": 12000,
                  "rationale": {...}, "requested": true}]}

`confidence` (0 to 1) is then used as is; otherwise a flow that answered gets
LANGFLOW_DEFAULT_CONFIDENCE (0.75): it ran, but nothing says how sure it is, so a tenant with a
strict threshold still reviews its replies. Actions whose type is not one of `ActionType` are
dropped and named in the metadata (`dropped_actions`). An action is the person's request only
when the flow says `"requested": true` (they asked for exactly that); anything else is a
suggestion, which a person must approve before it runs.

Failures never raise: they become `AgentResult.failure(code, polite text)` with the details
(status, attempts, elapsed ms) in the metadata and the log; neither ever holds the API key or the
message. Codes: `not_configured`, `timeout`, `connection_error`, `http_<status>`, `bad_response`.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Self, TypeGuard

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from agents.backends.base import AgentContext, AgentResult, ProposedAction, estimate_tokens
from agents.types import ActionType, BackendKind
from agents.understanding.context import message_understood

if TYPE_CHECKING:
    from agents.models import WalkerAgent

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_COMPONENT = "EnGardeContext"
DEFAULT_CONFIDENCE = 0.75
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

NOT_CONFIGURED_TEXT = "Sorry, this assistant isn't available yet. A member of the team can help."
UNAVAILABLE_TEXT = "Sorry, I can't answer right now. Please try again in a few minutes."

_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)
_MICRO_USD = Decimal("0.000001")
_CENT = Decimal("0.01")


@dataclass
class _Attempts:
    failed: int = 0


class _CountingRetry(Retry):
    """urllib3's Retry, counting the attempts that failed: when the call ends in an exception,
    the retry history is lost with the Retry objects urllib3 passed along."""

    # urllib3 also retries a 413 that carries Retry-After; a 4xx other than 429 never is here.
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    def __init__(self, *args: Any, attempts: _Attempts | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = attempts if attempts is not None else _Attempts()

    def new(self, **kw: Any) -> Self:
        # One counter shared by every copy, so the caller's reference sees each failure.
        return super().new(attempts=self.attempts, **kw)

    def increment(self, *args: Any, **kwargs: Any) -> Self:
        self.attempts.failed += 1
        return super().increment(*args, **kwargs)


def _session(attempts: _Attempts) -> requests.Session:
    """A session for one run. Settings are read per run, and a pool kept across runs would save
    one TCP handshake on a call that lasts seconds, at the cost of sharing a Session (not
    thread-safe) between worker threads."""
    timeout = float(settings.LANGFLOW_TIMEOUT_SECONDS)
    retries = int(settings.LANGFLOW_MAX_RETRIES)
    retry = _CountingRetry(
        total=retries,
        # Connect errors mean Langflow never saw the request: always safe to try again.
        connect=retries,
        # A read error (timeout, connection dropped) comes after Langflow received the run, and a
        # flow is not idempotent: retrying could run it twice (two LLM bills, two side effects)
        # and would multiply the wait. Fail at once; the turn engine decides what happens next.
        read=False,
        # 429 and 5xx: Langflow (or its proxy) refused or failed the run; retried with backoff.
        status=retries,
        other=0,
        allowed_methods=frozenset({"POST"}),
        status_forcelist=RETRY_STATUSES,
        # urllib3 retries the first failure at once, then waits factor x 2, x 4, ...
        backoff_factor=float(settings.LANGFLOW_BACKOFF_SECONDS),
        backoff_max=timeout,
        respect_retry_after_header=True,
        # A long Retry-After would hold the turn for hours: never wait longer than one call may
        # take (urllib3 takes whole seconds here).
        retry_after_max=max(1, math.ceil(timeout)),
        # Hand back the last 5xx/429 response when retries run out, to report its status.
        raise_on_status=False,
        attempts=attempts,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class LangflowBackend:
    kind = BackendKind.LANGFLOW

    def run(self, agent: WalkerAgent, message: str, context: AgentContext) -> AgentResult:
        flow_id = context.instance.flow_id if context.instance is not None else ""
        base_url = settings.LANGFLOW_API_URL
        if not base_url or not flow_id:
            missing = "LANGFLOW_API_URL" if not base_url else "flow_id"
            logger.warning(
                "Langflow backend not configured for tenant %s, agent %s: no %s",
                context.tenant.pk,
                agent.agent_type,
                missing,
            )
            return AgentResult.failure(
                "not_configured", NOT_CONFIGURED_TEXT, flow_id=flow_id, missing=missing, attempts=0
            )

        session_id = _session_id(context)
        payload = {
            "input_value": message,
            "input_type": "chat",
            "output_type": "chat",
            "session_id": session_id,
            "tweaks": {_context_component(): _context_tweak(agent, message, context)},
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if settings.LANGFLOW_API_KEY:
            headers["x-api-key"] = settings.LANGFLOW_API_KEY
        timeout = float(settings.LANGFLOW_TIMEOUT_SECONDS)
        url = f"{base_url}/api/v1/run/{flow_id}"
        metadata: dict[str, Any] = {"flow_id": flow_id, "session_id": session_id}

        attempts = _Attempts()
        started = time.monotonic()
        try:
            with _session(attempts) as session:
                response = session.post(
                    url,
                    params={"stream": "false"},
                    json=payload,
                    headers=headers,
                    timeout=(timeout, timeout),
                    # A redirect means a wrong LANGFLOW_API_URL (http -> https, a login page):
                    # following it would turn the POST into a GET. Report it instead.
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            metadata |= {"attempts": attempts.failed, "elapsed_ms": _ms_since(started)}
            return self._failed(_error_code(exc), metadata, context, exc_type=type(exc).__name__)

        # A 429/5xx that comes back went through urllib3's retry count; any other did not.
        retried_last = response.status_code in RETRY_STATUSES
        metadata |= {
            "status": response.status_code,
            "attempts": attempts.failed + (0 if retried_last else 1),
            "elapsed_ms": _ms_since(started),
        }
        if not 200 <= response.status_code < 300:
            detail = _detail(response.content, message)
            if detail:
                metadata["detail"] = detail
            return self._failed(f"http_{response.status_code}", metadata, context)

        try:
            body = json.loads(response.content)
        except ValueError:
            return self._failed("bad_response", metadata | {"reason": "not JSON"}, context)
        reply = _reply_from(body)
        if reply is None:
            return self._failed("bad_response", metadata | {"reason": "no reply text"}, context)

        result = _result(reply, message, context, metadata)
        logger.info(
            "Langflow flow %s answered tenant %s in %s ms (%s attempt(s))",
            flow_id,
            context.tenant.pk,
            metadata["elapsed_ms"],
            metadata["attempts"],
        )
        return result

    def _failed(
        self, code: str, metadata: dict[str, Any], context: AgentContext, exc_type: str = ""
    ) -> AgentResult:
        # Exception texts are left out: they quote the URL, which may carry credentials.
        logger.warning(
            "Langflow flow %s failed for tenant %s: %s%s (status %s, %s attempt(s), %s ms)",
            metadata.get("flow_id"),
            context.tenant.pk,
            code,
            f" ({exc_type})" if exc_type else "",
            metadata.get("status", "-"),
            metadata.get("attempts"),
            metadata.get("elapsed_ms"),
        )
        text = NOT_CONFIGURED_TEXT if code == "not_configured" else UNAVAILABLE_TEXT
        return AgentResult.failure(code, text, **metadata)


def _error_code(exc: requests.RequestException) -> str:
    # ConnectTimeout is both a Timeout and a ConnectionError: it counts as a timeout. requests
    # reports a read timeout while reading the body as a ConnectionError wrapping urllib3's.
    if isinstance(exc, requests.Timeout) or (
        exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError)
    ):
        return "timeout"
    if isinstance(exc, _BAD_URL_ERRORS):
        return "not_configured"  # LANGFLOW_API_URL is not a URL
    return "connection_error"


def _session_id(context: AgentContext) -> str:
    if context.session_id:
        return context.session_id
    if context.conversation_id is not None:
        return f"engarde-{context.tenant.pk}-{context.conversation_id}"
    return f"engarde-{context.tenant.pk}-{uuid.uuid4().hex}"


def _context_component() -> str:
    return getattr(settings, "LANGFLOW_CONTEXT_COMPONENT", DEFAULT_CONTEXT_COMPONENT)


def _context_tweak(agent: WalkerAgent, message: str, context: AgentContext) -> dict[str, Any]:
    history = [{"role": m.role, "text": m.text} for m in context.messages]
    request = message_understood(message, context, agent_type=agent.agent_type).as_dict()
    return {
        "intent": request["intent"],
        "slots": request,
        "tenant_slug": context.tenant.slug,
        "tenant_name": context.tenant.name,
        "agent_type": agent.agent_type,
        "agent_name": agent.name,
        "conversation_id": "" if context.conversation_id is None else str(context.conversation_id),
        "history": history,
        "history_text": "\n".join(f"{m['role']}: {m['text']}" for m in history),
    }


@dataclass(frozen=True)
class _Reply:
    text: str
    session_id: str
    usage: dict[str, Any]


def _reply_from(body: Any) -> _Reply | None:
    """The first output component's message in a RunResponse, or None when there is none."""
    if not isinstance(body, dict):
        return None
    runs = body.get("outputs")
    if not isinstance(runs, list) or not runs or not isinstance(runs[0], dict):
        return None
    components = runs[0].get("outputs")
    if not isinstance(components, list):
        return None
    session_id = body.get("session_id")
    for component in components:
        if not isinstance(component, dict):
            continue
        found = _message_of(component)
        if found is not None:
            text, message = found
            return _Reply(
                text=text,
                session_id=session_id if isinstance(session_id, str) else "",
                usage=_usage(message),
            )
    return None


def _message_of(component: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    results = component.get("results")
    if isinstance(results, dict):
        ordered = [results.get("message"), *(v for k, v in results.items() if k != "message")]
        for value in ordered:
            if isinstance(value, dict) and _nonblank(value.get("text")):
                return value["text"], value
    messages = component.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    if isinstance(first, dict) and _nonblank(first.get("message")):
        return first["message"], {}
    artifacts = component.get("artifacts")
    if isinstance(artifacts, dict) and _nonblank(artifacts.get("message")):
        return artifacts["message"], artifacts
    return None


def _usage(message: dict[str, Any]) -> dict[str, Any]:
    for holder in (message, message.get("data")):
        if isinstance(holder, dict) and isinstance(holder.get("properties"), dict):
            usage = holder["properties"].get("usage")
            if isinstance(usage, dict):
                return usage
    return {}


def _result(
    reply: _Reply, message: str, context: AgentContext, metadata: dict[str, Any]
) -> AgentResult:
    metadata = dict(metadata)
    if reply.session_id:
        metadata["langflow_session_id"] = reply.session_id

    text = reply.text
    confidence = float(getattr(settings, "LANGFLOW_DEFAULT_CONFIDENCE", DEFAULT_CONFIDENCE))
    metadata["confidence_source"] = "default"
    actions: tuple[ProposedAction, ...] = ()
    envelope = _envelope(reply.text)
    if envelope is not None:
        text = envelope["text"].strip()
        flow_confidence = envelope.get("confidence")
        if _is_number(flow_confidence) and 0.0 <= flow_confidence <= 1.0:
            confidence = float(flow_confidence)
            metadata["confidence_source"] = "flow"
        elif flow_confidence is not None:
            metadata["confidence_ignored"] = "not a number between 0 and 1"
        actions, dropped = _actions(envelope.get("actions"))
        if dropped:
            metadata["dropped_actions"] = dropped

    prompt_tokens = estimate_tokens(message) + sum(
        estimate_tokens(m.text) for m in context.messages
    )
    tokens_in, tokens_out, estimated = _tokens(reply.usage, prompt_tokens, estimate_tokens(text))
    metadata["tokens_estimated"] = estimated
    rate = Decimal(str(settings.LANGFLOW_COST_PER_1K_TOKENS))
    cost = (Decimal(tokens_in + tokens_out) * rate / 1000).quantize(_MICRO_USD, ROUND_HALF_UP)
    return AgentResult(
        text=text,
        confidence=confidence,
        actions=actions,
        metadata=metadata,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=cost,
    )


def _envelope(text: str) -> dict[str, Any] | None:
    """The flow's JSON answer ({"text", "confidence", "actions"}), or None for plain text."""
    candidate = text.strip()
    if candidate.startswith("```"):
        candidate = candidate.removeprefix("```json").removeprefix("```").removesuffix("```")
        candidate = candidate.strip()
    if not candidate.startswith("{"):
        return None
    try:
        data = json.loads(candidate)
    except ValueError:
        return None
    if isinstance(data, dict) and _nonblank(data.get("text")):
        return data
    return None


def _actions(raw: Any) -> tuple[tuple[ProposedAction, ...], list[str]]:
    if raw is None:
        return (), []
    if not isinstance(raw, list):
        return (), ["(actions is not a list)"]
    actions: list[ProposedAction] = []
    dropped: list[str] = []
    for item in raw:
        action_type = item.get("action_type") if isinstance(item, dict) else None
        if not isinstance(item, dict) or action_type not in ActionType.values:
            dropped.append(str(action_type)[:64] if action_type is not None else "(no type)")
            continue
        title = item.get("title")
        description = item.get("description")
        actions.append(
            ProposedAction(
                action_type=action_type,
                title=title if _nonblank(title) else str(ActionType(action_type).label),
                description=description if isinstance(description, str) else "",
                data=item["data"] if isinstance(item.get("data"), dict) else {},
                estimated_cost=_money(item.get("estimated_cost")),
                estimated_reach=_whole(item.get("estimated_reach")),
                rationale=item["rationale"] if isinstance(item.get("rationale"), dict) else {},
                requested=item.get("requested") is True,
            )
        )
    return tuple(actions), dropped


def _tokens(
    usage: dict[str, Any], prompt_estimate: int, reply_estimate: int
) -> tuple[int, int, bool]:
    tokens_in = _whole(usage.get("input_tokens"))
    tokens_out = _whole(usage.get("output_tokens"))
    if tokens_in is not None and tokens_out is not None:
        return tokens_in, tokens_out, False
    total = _whole(usage.get("total_tokens"))
    if total is not None:
        # Only the total is known: it is what costs money, the split is estimated.
        tokens_out = min(total, reply_estimate)
        return total - tokens_out, tokens_out, True
    return prompt_estimate, reply_estimate, True


def _money(value: Any) -> Decimal | None:
    if not _is_number(value) and not isinstance(value, str):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return amount.quantize(_CENT, ROUND_HALF_UP)


def _whole(value: Any) -> int | None:
    if _is_number(value) and value >= 0 and float(value).is_integer():
        return int(value)
    return None


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _nonblank(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())


def _detail(body: bytes, message: str) -> str:
    """Langflow's (FastAPI's) error `detail` ("Flow identifier ... not found", "Invalid or missing
    API key"), shortened, for the staff who read the metadata; withheld when it quotes the
    person's message, which a failed flow's traceback may do."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    detail = data.get("detail") if isinstance(data, dict) else None
    if not isinstance(detail, str) or (message.strip() and message.strip() in detail):
        return ""
    return detail[:200]


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
