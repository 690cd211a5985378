"""The Langflow backend against a local server that speaks Langflow's run API: the real
requests/urllib3 client, its timeouts and retries, run end to end."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from agents.backends.base import AgentContext, AgentResult, ContextMessage, estimate_tokens
from agents.backends.langflow import (
    DEFAULT_CONFIDENCE,
    NOT_CONFIGURED_TEXT,
    UNAVAILABLE_TEXT,
    LangflowBackend,
)
from agents.checks import check_langflow_instances, check_langflow_settings
from agents.models import AgentInstance, WalkerAgent
from tests.agents.factories import CampaignFactory
from tests.agents.fake_langflow import FakeLangflow, FakeResponse, run_response
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

API_KEY = "sk-lf-test-4b1d9e7c2a"
FLOW_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
MESSAGE = "Which keywords does the Zephyr launch page rank for?"
MAX_RETRIES = 2
TIMEOUT = 0.5


@pytest.fixture
def fake() -> Iterator[FakeLangflow]:
    with FakeLangflow(api_key=API_KEY, flows={FLOW_ID}) as server:
        yield server


@pytest.fixture(autouse=True)
def langflow_settings(fake: FakeLangflow, settings: SettingsWrapper) -> SettingsWrapper:
    settings.LANGFLOW_API_URL = fake.url
    settings.LANGFLOW_API_KEY = API_KEY
    settings.LANGFLOW_TIMEOUT_SECONDS = TIMEOUT
    settings.LANGFLOW_MAX_RETRIES = MAX_RETRIES
    settings.LANGFLOW_BACKOFF_SECONDS = 0
    settings.LANGFLOW_COST_PER_1K_TOKENS = "0.002"
    return settings


@pytest.fixture
def context() -> AgentContext:
    tenant = TenantFactory(slug="acme", name="Acme")
    agent = WalkerAgent.objects.get(agent_type="seo_optimization")
    instance, _ = AgentInstance.objects.update_or_create(
        tenant=tenant,
        agent=agent,
        defaults={"backend": "langflow", "flow_id": FLOW_ID, "enabled": True},
    )
    history = tuple(
        ContextMessage(role="user" if n % 2 == 0 else "agent", text=f"Earlier message {n}")
        for n in range(12)
    )
    return AgentContext(tenant=tenant, instance=instance, messages=history, conversation_id=42)


def run(context: AgentContext, message: str = MESSAGE) -> tuple[AgentResult, float]:
    assert context.instance is not None
    started = time.monotonic()
    result = LangflowBackend().run(context.instance.agent, message, context)
    return result, time.monotonic() - started


def assert_failed(result: AgentResult, code: str, text: str = UNAVAILABLE_TEXT) -> None:
    assert result.error == code
    assert not result.ok
    assert result.text == text
    assert result.confidence == 0.0
    assert result.actions == ()


def test_run_posts_the_documented_request_and_reads_the_reply(
    fake: FakeLangflow, context: AgentContext
) -> None:
    usage = {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500}
    fake.script(FakeResponse(body=run_response("Zephyr ranks #3 for 'trail shoes'.", usage=usage)))

    result, _ = run(context)

    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == f"/api/v1/run/{FLOW_ID}"
    assert request.query == {"stream": ["false"]}
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["content-type"] == "application/json"
    body = request.body
    assert body["input_value"] == MESSAGE
    assert body["input_type"] == "chat"
    assert body["output_type"] == "chat"
    assert body["session_id"] == f"engarde-{context.tenant.pk}-42"
    tweak = body["tweaks"]["EnGardeContext"]
    assert tweak["tenant_slug"] == "acme"
    assert tweak["tenant_name"] == "Acme"
    assert tweak["agent_type"] == "seo_optimization"
    assert tweak["agent_name"] == context.instance.agent.name
    assert tweak["conversation_id"] == "42"
    # The context keeps the last 10 of the 12 messages, oldest first.
    assert tweak["history"] == [
        {"role": "user" if n % 2 == 0 else "agent", "text": f"Earlier message {n}"}
        for n in range(2, 12)
    ]
    assert tweak["history_text"].splitlines()[0] == "user: Earlier message 2"
    assert len(tweak["history_text"].splitlines()) == 10
    # What the built-in agents read in the message, for the flow to use too.
    assert tweak["intent"] == "question" and tweak["slots"]["text"] == MESSAGE
    assert set(tweak["slots"]) >= {"verb", "campaign", "platform", "metric", "period", "amount"}

    assert result.ok
    assert result.text == "Zephyr ranks #3 for 'trail shoes'."
    assert result.confidence == DEFAULT_CONFIDENCE
    assert (result.tokens_in, result.tokens_out) == (1200, 300)
    assert result.cost_usd == Decimal("1500") * Decimal("0.002") / 1000
    assert result.metadata["attempts"] == 1
    assert result.metadata["status"] == 200
    assert result.metadata["tokens_estimated"] is False
    assert result.metadata["langflow_session_id"] == "session-1"


def test_without_usage_tokens_are_estimated_and_priced(
    fake: FakeLangflow, context: AgentContext, settings: SettingsWrapper
) -> None:
    settings.LANGFLOW_COST_PER_1K_TOKENS = "0.5"

    result, _ = run(context)

    assert result.ok
    assert result.text == f"Echo: {MESSAGE}"
    expected_in = estimate_tokens(MESSAGE) + sum(estimate_tokens(m.text) for m in context.messages)
    expected_out = estimate_tokens(f"Echo: {MESSAGE}")
    assert (result.tokens_in, result.tokens_out) == (expected_in, expected_out)
    assert result.cost_usd == (
        Decimal(expected_in + expected_out) * Decimal("0.5") / 1000
    ).quantize(Decimal("0.000001"))
    assert result.metadata["tokens_estimated"] is True


def test_session_id_comes_from_the_context_or_a_fresh_one_outside_a_conversation(
    fake: FakeLangflow, context: AgentContext
) -> None:
    given = AgentContext(tenant=context.tenant, instance=context.instance, session_id="wa-77")
    loose = AgentContext(tenant=context.tenant, instance=context.instance)

    run(given)
    run(loose)
    run(loose)

    sessions = [request.body["session_id"] for request in fake.requests]
    assert sessions[0] == "wa-77"
    assert sessions[1].startswith(f"engarde-{context.tenant.pk}-")
    assert sessions[2].startswith(f"engarde-{context.tenant.pk}-")
    # Langflow would otherwise fall back to the flow id: one memory for every tenant.
    assert sessions[1] != sessions[2]
    assert fake.requests[1].body["tweaks"]["EnGardeContext"]["history"] == []


def test_confidence_and_actions_come_from_a_json_reply(
    fake: FakeLangflow, context: AgentContext
) -> None:
    reply = {
        "text": "Raise the Zephyr budget: ROAS is 4.1.",
        "confidence": 0.91,
        "actions": [
            {
                "action_type": "budget_increase",
                "title": "Raise Zephyr budget by 20%",
                "description": "ROAS 4.1 beats the 3.0 target.",
                "data": {"campaign_id": 7, "new_daily_budget": "120.00"},
                "estimated_cost": 150,
                "estimated_reach": 12000,
                "rationale": {"roas": 4.1},
            },
            {"action_type": "launch_rocket", "title": "Nope"},
            "not an action",
        ],
    }
    fake.script(FakeResponse(body=run_response(f"```json\n{json.dumps(reply)}\n```")))

    result, _ = run(context)

    assert result.ok
    assert result.text == "Raise the Zephyr budget: ROAS is 4.1."
    assert result.confidence == 0.91
    assert result.metadata["confidence_source"] == "flow"
    [action] = result.actions
    assert action.action_type == "budget_increase"
    assert action.title == "Raise Zephyr budget by 20%"
    assert action.data == {"campaign_id": 7, "new_daily_budget": "120.00"}
    assert action.estimated_cost == Decimal("150.00")
    assert action.estimated_reach == 12000
    assert action.rationale == {"roas": 4.1}
    assert result.metadata["dropped_actions"] == ["launch_rocket", "(no type)"]


@pytest.mark.parametrize("confidence", [1.7, -0.1, "high", True])
def test_a_confidence_outside_0_to_1_falls_back_to_the_default(
    fake: FakeLangflow, context: AgentContext, confidence: Any
) -> None:
    reply = json.dumps({"text": "Probably fine.", "confidence": confidence})
    fake.script(FakeResponse(body=run_response(reply)))

    result, _ = run(context)

    assert result.ok
    assert result.text == "Probably fine."
    assert result.confidence == DEFAULT_CONFIDENCE
    assert "confidence_ignored" in result.metadata


@pytest.mark.parametrize(
    "component",
    [
        pytest.param(
            {"results": {}, "messages": [{"message": "From messages.", "type": "text"}]},
            id="messages",
        ),
        pytest.param({"results": {}, "artifacts": {"message": "From artifacts."}}, id="artifacts"),
        pytest.param({"results": {"text": {"text": "From a Text Output."}}}, id="text-output"),
    ],
)
def test_other_documented_output_shapes_are_read(
    fake: FakeLangflow, context: AgentContext, component: dict[str, Any]
) -> None:
    body = {"session_id": "s", "outputs": [{"inputs": {}, "outputs": [None, component]}]}
    fake.script(FakeResponse(body=body))

    result, _ = run(context)

    assert result.ok
    assert result.text.startswith("From ")


def test_a_flow_slower_than_the_timeout_gives_a_timeout_without_running_it_twice(
    fake: FakeLangflow, context: AgentContext
) -> None:
    fake.script(FakeResponse(delay=5))

    result, elapsed = run(context)

    assert_failed(result, "timeout")
    # A read timeout is not retried: the flow may be running, and runs are not idempotent.
    assert len(fake.requests) == 1
    assert result.metadata["attempts"] == 1
    assert elapsed < TIMEOUT + 1


def test_a_body_that_stalls_after_the_headers_gives_a_timeout(
    fake: FakeLangflow, context: AgentContext
) -> None:
    fake.script(FakeResponse(body=run_response("late"), body_delay=5))

    result, elapsed = run(context)

    assert_failed(result, "timeout")
    assert len(fake.requests) == 1
    assert elapsed < TIMEOUT + 1


def test_503_twice_then_success_answers_after_three_attempts(
    fake: FakeLangflow, context: AgentContext
) -> None:
    fake.script(FakeResponse(status=503), FakeResponse(status=503), FakeResponse())

    result, _ = run(context)

    assert result.ok
    assert result.text == f"Echo: {MESSAGE}"
    assert len(fake.requests) == 3
    assert result.metadata["attempts"] == 3
    # Each attempt is the same run of the same session.
    assert len({json.dumps(r.body, sort_keys=True) for r in fake.requests}) == 1


def test_429_is_retried_after_its_retry_after(
    fake: FakeLangflow, context: AgentContext, settings: SettingsWrapper
) -> None:
    settings.LANGFLOW_TIMEOUT_SECONDS = 3  # caps Retry-After: let the server's 1 s through
    fake.script(FakeResponse(status=429, headers={"Retry-After": "1"}), FakeResponse())

    result, elapsed = run(context)

    assert result.ok
    assert len(fake.requests) == 2
    assert result.metadata["attempts"] == 2
    assert elapsed >= 0.9  # the backoff is 0: only Retry-After made it wait


def test_a_long_retry_after_is_capped_by_the_timeout(
    fake: FakeLangflow, context: AgentContext
) -> None:
    fake.script(FakeResponse(status=429, headers={"Retry-After": "3600"}), FakeResponse())

    result, elapsed = run(context)

    assert result.ok
    assert len(fake.requests) == 2
    assert elapsed < 2.5  # waited one second (the 0.5 s timeout, in whole seconds), not an hour


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_forever_fails_after_the_retries(
    fake: FakeLangflow, context: AgentContext, status: int
) -> None:
    fake.script(*[FakeResponse(status=status, body={"detail": "boom"})] * 10)

    result, _ = run(context)

    assert_failed(result, f"http_{status}")
    assert len(fake.requests) == 1 + MAX_RETRIES
    assert result.metadata["attempts"] == 1 + MAX_RETRIES
    assert result.metadata["status"] == status


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("bad_request", 400),
        ("wrong_key", 403),
        ("no_key", 403),
        ("unknown_flow", 404),
        ("too_large_with_retry_after", 413),
        ("validation", 422),
    ],
)
def test_4xx_is_not_retried(
    fake: FakeLangflow,
    context: AgentContext,
    settings: SettingsWrapper,
    case: str,
    status: int,
) -> None:
    if case == "wrong_key":
        settings.LANGFLOW_API_KEY = "sk-not-the-key"
    elif case == "no_key":
        settings.LANGFLOW_API_KEY = ""
    elif case == "unknown_flow":
        assert context.instance is not None
        context.instance.flow_id = "not-a-flow"
    elif case == "too_large_with_retry_after":
        fake.script(FakeResponse(status=413, headers={"Retry-After": "0"}))
    else:
        fake.script(FakeResponse(status=status, body={"detail": "Invalid input"}))

    result, _ = run(context)

    assert_failed(result, f"http_{status}")
    assert len(fake.requests) == 1
    assert result.metadata["attempts"] == 1
    if case == "wrong_key":
        assert result.metadata["detail"] == "Invalid or missing API key"
        assert fake.requests[0].headers["x-api-key"] == "sk-not-the-key"
    if case == "no_key":
        assert "x-api-key" not in fake.requests[0].headers
    if case == "unknown_flow":
        assert result.metadata["detail"] == "Flow identifier not-a-flow not found"


def test_a_refused_connection_is_retried_then_reported(
    fake: FakeLangflow, context: AgentContext
) -> None:
    fake.stop()

    result, elapsed = run(context)

    assert_failed(result, "connection_error")
    assert result.metadata["attempts"] == 1 + MAX_RETRIES
    assert elapsed < 2


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(FakeResponse(body="<html>502 Bad Gateway</html>"), id="html"),
        pytest.param(FakeResponse(body={"detail": "ok"}), id="no-outputs"),
        pytest.param(FakeResponse(body={"session_id": "s", "outputs": []}), id="empty-outputs"),
        pytest.param(
            FakeResponse(body={"outputs": [{"inputs": {}, "outputs": [None]}]}), id="null-output"
        ),
        pytest.param(FakeResponse(body=run_response("   ")), id="blank-text"),
        pytest.param(FakeResponse(body=[1, 2]), id="list"),
    ],
)
def test_an_unexpected_body_is_a_bad_response(
    fake: FakeLangflow, context: AgentContext, response: FakeResponse
) -> None:
    fake.script(response)

    result, _ = run(context)

    assert_failed(result, "bad_response")
    assert len(fake.requests) == 1


@pytest.mark.parametrize("missing", ["url", "instance", "flow_id"])
def test_without_url_or_flow_nothing_is_sent(
    fake: FakeLangflow, context: AgentContext, settings: SettingsWrapper, missing: str
) -> None:
    if missing == "url":
        settings.LANGFLOW_API_URL = ""
    elif missing == "instance":
        context = AgentContext(tenant=context.tenant, messages=context.messages)
    else:
        assert context.instance is not None
        context.instance.flow_id = ""
    agent = WalkerAgent.objects.get(agent_type="seo_optimization")

    result = LangflowBackend().run(agent, MESSAGE, context)

    assert_failed(result, "not_configured", text=NOT_CONFIGURED_TEXT)
    assert fake.requests == []


@pytest.mark.parametrize("url", ["langflow:7860", "not a url", "http://"])
def test_a_malformed_url_is_not_configured(
    fake: FakeLangflow, context: AgentContext, settings: SettingsWrapper, url: str
) -> None:
    settings.LANGFLOW_API_URL = url

    result, _ = run(context)

    assert_failed(result, "not_configured", text=NOT_CONFIGURED_TEXT)
    assert fake.requests == []


def test_neither_the_api_key_nor_the_message_reaches_the_logs(
    fake: FakeLangflow,
    context: AgentContext,
    settings: SettingsWrapper,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    crashed = FakeResponse(status=500, body={"detail": f"Flow crashed on input {MESSAGE}"})
    fake.script(FakeResponse(), FakeResponse(status=503), crashed, crashed, FakeResponse(delay=5))

    results = [run(context)[0] for _ in range(3)]
    settings.LANGFLOW_API_KEY = API_KEY + "-wrong"
    results.append(run(context)[0])

    assert [r.error for r in results] == ["", "http_500", "timeout", "http_403"]
    langflow_logs = [r for r in caplog.records if r.name == "agents.backends.langflow"]
    assert any(r.levelno == logging.WARNING for r in langflow_logs)
    # The HTTP client logged too (each request and retry), and the check covers it.
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    for secret in (API_KEY, MESSAGE, "Zephyr"):
        assert secret not in caplog.text
        for result in results:
            assert secret not in repr(result.metadata)
            assert secret not in result.text or result.ok


def test_w001_when_an_instance_uses_langflow_without_a_url(
    context: AgentContext, settings: SettingsWrapper
) -> None:
    settings.LANGFLOW_API_URL = ""

    [warning] = check_langflow_instances(databases=["default"])

    assert warning.id == "agents.W001"
    # Without a database to look at (plain `check`), the check stays quiet, like Django's own.
    assert check_langflow_instances(databases=None) == []
    settings.LANGFLOW_API_URL = "http://langflow:7860"
    assert check_langflow_instances(databases=["default"]) == []


def test_no_w001_without_langflow_instances(settings: SettingsWrapper) -> None:
    settings.LANGFLOW_API_URL = ""
    AgentInstance.objects.filter(backend="langflow").delete()

    assert check_langflow_instances(databases=["default"]) == []


@pytest.mark.parametrize(
    ("url", "key", "ids"),
    [
        ("", "sk-x", ["agents.W002"]),
        ("http://langflow:7860", "", ["agents.W003"]),
        ("langflow:7860", "sk-x", ["agents.W004"]),
        ("http://langflow:7860", "sk-x", []),
        ("", "", []),
    ],
)
def test_langflow_settings_check(
    settings: SettingsWrapper, url: str, key: str, ids: list[str]
) -> None:
    settings.LANGFLOW_API_URL = url
    settings.LANGFLOW_API_KEY = key

    assert [message.id for message in check_langflow_settings()] == ids


def test_the_flow_is_given_the_parsed_command(fake: FakeLangflow, context: AgentContext) -> None:
    CampaignFactory(tenant=context.tenant, name="Search - Brand", platform="google_ads")
    fake.script(FakeResponse(body=run_response("On it.")))
    run(context, "Set search brand to $600 a day")
    slots = fake.requests[0].body["tweaks"]["EnGardeContext"]["slots"]
    assert slots["intent"] == "command" and slots["verb"] == "set"
    assert slots["campaign"]["found"]["name"] == "Search - Brand"
    assert slots["amount"] == {"value": "600", "mode": "to", "per_day": True}
