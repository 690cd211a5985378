from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import SubscriptionTier, User
from accounts.roles import (
    CFO,
    COMPLIANCE_OFFICER,
    DIRECTOR_MARKETING,
    MARKETING_MANAGER,
    MEMBER,
    READ_ONLY_ADMIN,
    SUPPORT_ADMIN,
)
from agents.models import AgentInstance, AgentRun
from agents.services import agent_instance_update
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/ai-agents/walker"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def instance(user: User, agent_type: str) -> AgentInstance:
    return AgentInstance.objects.get(tenant=user.tenant, agent__agent_type=agent_type)


def enable(user: User, *agent_types: str) -> None:
    for agent_type in agent_types:
        agent_instance_update(instance=instance(user, agent_type), enabled=True)


def test_every_tenant_is_given_every_agent(people: TenantPeople) -> None:
    body = client_for(people.owner).get(f"{BASE}/list").json()
    assert [a["agent_type"] for a in body["agents"]] == [
        "paid_ads_optimization",
        "seo_optimization",
        "content_generation",
        "audience_intelligence",
        "personal_agent_core",
    ]
    assert body["walker_agent_limit"] == 3  # the factory's professional plan
    assert body["walker_agents_enabled"] == 0
    first = body["agents"][0]
    assert first["name"] == "Paid Ads Marketing Agent"
    assert first["platforms"] == ["Meta", "TikTok", "Google Ads", "LinkedIn"]
    assert first["system_protected"] is True


@pytest.mark.parametrize(
    ("tier", "limit"),
    [
        (SubscriptionTier.FREE, 1),
        (SubscriptionTier.STARTER, 2),
        (SubscriptionTier.PROFESSIONAL, 3),
        (SubscriptionTier.BUSINESS, 4),
        (SubscriptionTier.ENTERPRISE, None),
    ],
)
def test_tier_limits_how_many_walker_agents_run(
    people: TenantPeople, tier: str, limit: Any
) -> None:
    people.tenant.tier = tier
    people.tenant.save()
    client = client_for(people.owner)
    ids = [a["id"] for a in client.get(f"{BASE}/list").json()["agents"]]
    walker_ids, personal_id = ids[:4], ids[4]
    answers = [client.patch(f"{BASE}/{pk}", {"enabled": True}, format="json") for pk in walker_ids]
    allowed = 4 if limit is None else limit
    assert [r.status_code for r in answers] == [200] * allowed + [400] * (4 - allowed)
    if limit is not None and limit < 4:
        error = answers[-1].json()
        assert error["error"] == "invalid"
        assert f"includes {limit} Walker agent" in error["fields"]["enabled"][0]
    enabled = AgentInstance.objects.filter(tenant=people.tenant, enabled=True).count()
    assert enabled == allowed
    # The personal agent (daily briefs) does not count toward the plan.
    assert (
        client.patch(f"{BASE}/{personal_id}", {"enabled": True}, format="json").status_code == 200
    )


def test_disabling_frees_a_slot(people: TenantPeople) -> None:
    people.tenant.tier = SubscriptionTier.FREE
    people.tenant.save()
    client = client_for(people.owner)
    ads, seo = (
        instance(people.owner, "paid_ads_optimization"),
        instance(people.owner, "seo_optimization"),
    )
    assert client.patch(f"{BASE}/{ads.pk}", {"enabled": True}, format="json").status_code == 200
    assert client.patch(f"{BASE}/{seo.pk}", {"enabled": True}, format="json").status_code == 400
    assert client.patch(f"{BASE}/{ads.pk}", {"enabled": False}, format="json").status_code == 200
    assert client.patch(f"{BASE}/{seo.pk}", {"enabled": True}, format="json").status_code == 200


def test_definition_is_system_protected(people: TenantPeople) -> None:
    client = client_for(people.owner)
    ads = instance(people.owner, "paid_ads_optimization")
    response = client.patch(
        f"{BASE}/{ads.pk}", {"name": "My agent", "purpose": "x", "enabled": True}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "purpose"}
    ads.refresh_from_db()
    assert not ads.enabled and ads.agent.name == "Paid Ads Marketing Agent"
    assert client.delete(f"{BASE}/{ads.pk}").status_code == 405
    assert client.put(f"{BASE}/{ads.pk}", {}, format="json").status_code == 405


def test_backend_and_flow_id_can_be_set(people: TenantPeople) -> None:
    client = client_for(people.owner)
    seo = instance(people.owner, "seo_optimization")
    bad = client.patch(f"{BASE}/{seo.pk}", {"backend": "langflow"}, format="json")
    assert bad.status_code == 400
    assert "flow id" in str(bad.json()).lower()
    ok = client.patch(
        f"{BASE}/{seo.pk}", {"backend": "langflow", "flow_id": "seo-flow-1"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["flow_id"] == "seo-flow-1"
    assert client.patch(f"{BASE}/{seo.pk}", {"backend": "gpt"}, format="json").status_code == 400


def test_roles_without_the_permission_cannot_change_agents(people: TenantPeople) -> None:
    ads = instance(people.owner, "paid_ads_optimization")
    for user in (people.teammate, StaffFactory(tenant=people.tenant, roles=[READ_ONLY_ADMIN])):
        response = client_for(user).patch(f"{BASE}/{ads.pk}", {"enabled": True}, format="json")
        assert response.status_code == 403
        assert response.json()["error"] == "permission_denied"


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"enabled": True}),
        ("get", "/analytics", None),
        ("post", "/execute", {"input": "How is Meta doing?"}),
    ],
)
def test_another_tenants_agent_is_not_found(
    people: TenantPeople, method: str, suffix: str, payload: Any
) -> None:
    theirs = instance(people.outsider, "paid_ads_optimization")
    agent_instance_update(instance=theirs, enabled=True)
    response = getattr(client_for(people.owner), method)(
        f"{BASE}/{theirs.pk}{suffix}", payload, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.enabled
    assert not AgentRun.objects.exists()


@pytest.mark.parametrize("path", ["/list", "/1", "/1/analytics"])
def test_anonymous_gets_401(path: str) -> None:
    assert APIClient().get(f"{BASE}{path}").status_code == 401


def test_platform_operator_without_tenant_is_told_why() -> None:
    root = User.objects.create_superuser("root", password="x" * 12)
    response = client_for(root).get(f"{BASE}/list")
    assert response.status_code == 403
    assert "tenant" in response.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"input": ""}, "input"),
        ({"input": "   "}, "input"),
        ({}, "input"),
        ({"input": "x" * 4001}, "input"),
        ({"input": "hi", "context": "not an object"}, "context"),
        ({"input": "hi", "context": {"history": "nope"}}, "context"),
        ({"input": "hi", "context": {"history": [{"role": "boss", "text": "x"}]}}, "context"),
        ({"input": ["a", "list"]}, "input"),
    ],
)
def test_execute_rejects_bad_input_clearly(people: TenantPeople, payload: Any, field: str) -> None:
    enable(people.owner, "paid_ads_optimization")
    ads = instance(people.owner, "paid_ads_optimization")
    response = client_for(people.owner).post(f"{BASE}/{ads.pk}/execute", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not AgentRun.objects.exists()


def test_execute_a_disabled_agent_is_a_conflict(people: TenantPeople) -> None:
    ads = instance(people.owner, "paid_ads_optimization")
    response = client_for(people.owner).post(
        f"{BASE}/{ads.pk}/execute", {"input": "How is Meta?"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"] == "agent_disabled"


def test_execute_records_the_run(people: TenantPeople) -> None:
    enable(people.owner, "seo_optimization")
    seo = instance(people.owner, "seo_optimization")
    manager = StaffFactory(tenant=people.tenant, roles=[MARKETING_MANAGER])
    conversation = ConversationFactory(tenant=people.tenant)
    body = (
        client_for(manager)
        .post(
            f"{BASE}/{seo.pk}/execute",
            {
                "input": "How are our rankings?",
                "context": {
                    "history": [{"role": "user", "text": f"message {n}"} for n in range(15)],
                    "conversation_id": conversation.pk,
                },
            },
            format="json",
        )
        .json()
    )
    run = AgentRun.objects.get(pk=body["run_id"])
    assert (run.tenant, run.agent_type, run.conversation) == (
        people.tenant,
        "seo_optimization",
        conversation,
    )
    assert list(conversation.agent_runs.all()) == [run]
    assert run.tokens_in == body["tokens_in"] > 0 and run.tokens_out == body["tokens_out"] > 0
    # No rankings imported: the agent says so, and is not confident.
    assert body["confidence"] < 0.6 and run.needs_review
    assert "no keyword rankings" in body["text"]


@pytest.mark.parametrize("role", [SUPPORT_ADMIN, MARKETING_MANAGER, DIRECTOR_MARKETING, CFO])
def test_roles_that_act_for_the_tenant_may_run_agents(people: TenantPeople, role: str) -> None:
    enable(people.owner, "paid_ads_optimization")
    ads = instance(people.owner, "paid_ads_optimization")
    user = StaffFactory(tenant=people.tenant, roles=[role])
    response = client_for(user).post(
        f"{BASE}/{ads.pk}/execute", {"input": "How is Meta doing?"}, format="json"
    )
    assert response.status_code == 200
    assert AgentRun.objects.filter(tenant=people.tenant).count() == 1


@pytest.mark.parametrize("role", [MEMBER, READ_ONLY_ADMIN, COMPLIANCE_OFFICER])
def test_other_roles_may_not_run_agents(people: TenantPeople, role: str) -> None:
    enable(people.owner, "paid_ads_optimization")
    ads = instance(people.owner, "paid_ads_optimization")
    factory = UserFactory if role == MEMBER else StaffFactory
    user = factory(tenant=people.tenant, username="maya", roles=[role])
    response = client_for(user).post(
        f"{BASE}/{ads.pk}/execute", {"input": "How is Meta doing?"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "permission_denied",
        "detail": "Your role may not run agents.",
    }
    assert not AgentRun.objects.exists()


def test_execute_in_another_tenants_conversation_is_not_found(people: TenantPeople) -> None:
    enable(people.owner, "paid_ads_optimization")
    ads = instance(people.owner, "paid_ads_optimization")
    theirs = ConversationFactory(tenant=people.other_tenant)
    missing = theirs.pk + 1000
    for conversation_id in (theirs.pk, missing):
        response = client_for(people.owner).post(
            f"{BASE}/{ads.pk}/execute",
            {"input": "How is Meta doing?", "context": {"conversation_id": conversation_id}},
            format="json",
        )
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "detail": f"No conversation {conversation_id} in this workspace.",
        }
    assert not AgentRun.objects.exists()


def test_a_run_outlives_its_conversation(people: TenantPeople) -> None:
    enable(people.owner, "paid_ads_optimization")
    ads = instance(people.owner, "paid_ads_optimization")
    conversation = ConversationFactory(tenant=people.tenant)
    body = (
        client_for(people.owner)
        .post(
            f"{BASE}/{ads.pk}/execute",
            {"input": "How is Meta doing?", "context": {"conversation_id": conversation.pk}},
            format="json",
        )
        .json()
    )
    conversation.delete()
    run = AgentRun.objects.get(pk=body["run_id"])
    assert run.conversation_id is None


def test_analytics_figures(people: TenantPeople) -> None:
    tenant = people.tenant
    now = timezone.now()
    latencies = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 5000]
    for n, latency in enumerate(latencies):
        AgentRun.objects.create(
            tenant=tenant,
            agent_type="paid_ads_optimization",
            backend="builtin",
            status="error" if n == 0 else "ok",
            confidence=None if n == 0 else 0.5 + n * 0.01,
            latency_ms=latency,
            needs_review=n % 2 == 0,
            cost_usd="0.010000",
            created_at=now - timedelta(hours=n),
        )
    AgentRun.objects.create(  # out of range
        tenant=tenant, agent_type="paid_ads_optimization", backend="builtin", status="ok",
        latency_ms=99999, created_at=now - timedelta(days=90),
    )  # fmt: skip
    AgentRun.objects.create(  # another agent
        tenant=tenant, agent_type="seo_optimization", backend="builtin", status="ok",
        latency_ms=99999, created_at=now,
    )  # fmt: skip
    ads = instance(people.owner, "paid_ads_optimization")
    body = client_for(people.owner).get(f"{BASE}/{ads.pk}/analytics").json()
    assert body["volume"] == 11
    assert body["avg_response_ms"] == round(sum(latencies) / 11, 1)
    assert body["p95_response_ms"] == 5000  # nearest rank: the 11th of 11
    assert body["error_rate"] == round(1 / 11, 4)
    assert body["hitl_rate"] == round(6 / 11, 4)
    assert body["avg_confidence"] == round(sum(0.5 + n * 0.01 for n in range(1, 11)) / 10, 3)
    assert body["cost_usd"] == "0.110000"


@pytest.mark.parametrize(
    "query",
    ["?start=2026-13-01", "?start=2026-05-02&end=2026-05-01", "?start=2020-01-01&end=2026-01-01"],
)
def test_analytics_rejects_bad_ranges(people: TenantPeople, query: str) -> None:
    ads = instance(people.owner, "paid_ads_optimization")
    response = client_for(people.owner).get(f"{BASE}/{ads.pk}/analytics{query}")
    assert response.status_code == 400
    assert "start" in response.json()["fields"]


def test_members_cannot_read_analytics(people: TenantPeople) -> None:
    member = UserFactory(tenant=people.tenant, roles=[MEMBER])
    ads = instance(member, "paid_ads_optimization")
    assert client_for(member).get(f"{BASE}/{ads.pk}/analytics").status_code == 403


def test_route(people: TenantPeople) -> None:
    client = client_for(people.owner)
    body = client.post(f"{BASE}/route", {"message": "How is my Meta ROAS this week?"}).json()
    assert body["agent_type"] == "paid_ads_optimization" and body["confidence"] >= 0.6
    switched = client.post(
        f"{BASE}/route",
        {"message": "ask the SEO agent about our rankings", "current_agent": "content_generation"},
    ).json()
    assert switched == {
        "agent_type": "seo_optimization",
        "confidence": 1.0,
        "needs_human": False,
        "reason": "explicit",
    }
    assert client.post(f"{BASE}/route", {"message": ""}).status_code == 400
    bad = client.post(f"{BASE}/route", {"message": "hi", "current_agent": "wizard"})
    assert bad.status_code == 400 and "current_agent" in bad.json()["fields"]


def test_schema_documents_the_agent_endpoints() -> None:
    paths = (
        APIClient()
        .get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        .json()["paths"]
    )
    for path in (
        "/api/v1/ai-agents/walker/list",
        "/api/v1/ai-agents/walker/route",
        "/api/v1/ai-agents/walker/{agent_id}",
        "/api/v1/ai-agents/walker/{agent_id}/analytics",
        "/api/v1/ai-agents/walker/{agent_id}/execute",
    ):
        assert path in paths
