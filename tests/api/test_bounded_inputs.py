"""Every input a client sends has a maximum that the schema documents and the code enforces
(issue 16, "Bounded input everywhere"): the schema lists no string without maxLength, no integer
without maximum and no array without maxItems among the query parameters and JSON request
bodies; and past the documented maximum, a request gets a 400 with the JSON error and stores
nothing. The maxima below are read from the schema, so the test checks that the number the
schema gives is the number the code holds to."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from agents.models import AgentInstance, AgentRun
from agents.services import agent_instance_update
from channels_app.email.models import EmailPreferences
from privacy.models import AdminAccessLog
from tests.conftest import TenantPeople

# Strings in these formats are bounded by their syntax.
BOUNDED_FORMATS = {"date", "date-time", "uuid", "binary"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def unbounded_inputs(schema: dict[str, Any]) -> list[str]:
    """Where the client's input has no documented maximum: query, header and cookie parameters
    and JSON request bodies (path parameters are bounded by the URL patterns)."""
    components = schema["components"]["schemas"]
    found: list[str] = []

    def resolved(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def walk(node: dict[str, Any], where: str, seen: frozenset[int]) -> None:
        node = resolved(node)
        if id(node) in seen or node.get("readOnly"):
            return
        seen |= {id(node)}
        for key in ("allOf", "oneOf", "anyOf"):
            for alternative in node.get(key, []):
                walk(alternative, where, seen)
        kind = node.get("type")
        if kind == "object":
            for name, field in (node.get("properties") or {}).items():
                walk(field, f"{where}.{name}", seen)
            if isinstance(node.get("additionalProperties"), dict):
                walk(node["additionalProperties"], f"{where}.*", seen)
        elif kind == "array":
            if "maxItems" not in node:
                found.append(f"{where}: array without maxItems")
            walk(node.get("items", {}), f"{where}[]", seen)
        elif kind == "string":
            if not ({"maxLength", "enum"} & set(node) or node.get("format") in BOUNDED_FORMATS):
                found.append(f"{where}: string without maxLength")
        elif kind == "integer" and "maximum" not in node:
            found.append(f"{where}: integer without maximum")

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    walk(parameter.get("schema", {}), f"{name} ?{parameter['name']}", frozenset())
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                walk(content["application/json"]["schema"], f"{name} body", frozenset())
    return found


def test_every_client_input_has_a_documented_maximum(schema: dict[str, Any]) -> None:
    assert unbounded_inputs(schema) == []


def test_the_audit_finds_an_unbounded_input(schema: dict[str, Any]) -> None:
    """The audit above is not blind: each kind it looks for, once its bound is taken away."""
    path = {
        "get": {
            "parameters": [
                {"in": "query", "name": "q", "schema": {"type": "string"}},
                {"in": "query", "name": "n", "schema": {"type": "integer", "minimum": 1}},
                {"in": "path", "name": "id", "schema": {"type": "integer"}},
            ],
        },
        "post": {
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}
            }
        },
    }
    body = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 9}},
            "at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "id": {"type": "integer", "readOnly": True},
        },
    }
    made = {"paths": {"/x": path}, "components": {"schemas": {"In": body}}}
    assert unbounded_inputs(made) == [
        "GET /x ?q: string without maxLength",
        "GET /x ?n: integer without maximum",
        "POST /x body.tags: array without maxItems",
    ]


def parameter(schema: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found["schema"]


def body_field(schema: dict[str, Any], path: str, method: str, *names: str) -> dict[str, Any]:
    components = schema["components"]["schemas"]
    node = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    for name in names:
        node = components[node["$ref"].rsplit("/", 1)[-1]]["properties"][name]
    return node


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_refused(response: Any, *field: str) -> None:
    """A 400 with the API's JSON error, naming the field (`field` is its path in `fields`)."""
    assert response.status_code == 400, response.content
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "invalid" and body["detail"]
    errors = body["fields"]
    for name in field:
        errors = errors[name]
    assert errors


def test_a_page_size_over_the_maximum_is_refused_and_not_logged(
    schema: dict[str, Any], people: TenantPeople
) -> None:
    most = parameter(schema, "/api/v1/admin/access-log", "page_size")["maximum"]
    client = client_for(people.owner)
    assert_refused(client.get("/api/v1/admin/access-log", {"page_size": most + 1}), "page_size")
    # Refused before the read: the access log did not record one.
    assert not AdminAccessLog.objects.exists()
    assert client.get("/api/v1/admin/access-log", {"page_size": most}).status_code == 200
    assert AdminAccessLog.objects.count() == 1


def test_a_string_over_the_maximum_is_refused_and_nothing_saved(
    schema: dict[str, Any], people: TenantPeople
) -> None:
    path = "/api/v1/channels/email/preferences/{user_id}"
    most = body_field(schema, path, "put", "timezone")["maxLength"]
    url = path.format(user_id=people.owner.pk)
    client = client_for(people.owner)
    response = client.put(url, {"enabled": True, "timezone": "x" * (most + 1)}, format="json")
    assert_refused(response, "timezone")
    assert f"no more than {most} characters" in response.json()["fields"]["timezone"][0]
    assert not EmailPreferences.objects.exists()
    response = client.put(url, {"enabled": True, "timezone": "Europe/Paris"}, format="json")
    assert response.status_code == 200
    assert EmailPreferences.objects.get().time_zone == "Europe/Paris"


def test_a_list_over_the_maximum_is_refused_and_no_run_recorded(
    schema: dict[str, Any], people: TenantPeople
) -> None:
    path = "/api/v1/ai-agents/walker/{agent_id}/execute"
    most = body_field(schema, path, "post", "context", "history")["maxItems"]
    ads = AgentInstance.objects.get(tenant=people.tenant, agent__agent_type="paid_ads_optimization")
    agent_instance_update(instance=ads, enabled=True)
    url = path.format(agent_id=ads.pk)
    client = client_for(people.owner)

    def execute(items: int) -> Any:
        history = [{"role": "user", "text": f"message {n}"} for n in range(items)]
        return client.post(
            url, {"input": "How is Meta doing?", "context": {"history": history}}, format="json"
        )

    assert_refused(execute(most + 1), "context", "history")
    assert not AgentRun.objects.exists()
    assert execute(most).status_code == 200
    assert AgentRun.objects.count() == 1
