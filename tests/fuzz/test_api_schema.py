"""schemathesis over every operation of the OpenAPI schema, as a tenant's super admin and as its
support admin: no answer is a 5xx, and every answer is documented (its status code, content type
and headers) and matches its documented body.

The requests go to the real Django application in this process (schemathesis' WSGI transport,
the way its documentation tests a Django app): every middleware, authentication, throttle and
view runs, against the test's PostgreSQL and Redis, and Twilio's API is the local fake. Each
operation gets its own tenant, in the test's transaction, so that what one operation's requests
change (an approval decided, an account erased) never reaches another's.

Per operation: schemathesis' examples and coverage cases (each parameter missing, empty, of the
wrong type, at its limits; other methods and content types) plus FUZZ's random ones. They go in
turn as one role and the other, and every other pair names real objects in its path (the
tenant's own, and another tenant's for the isolation checks): generated ids rarely exist.

No operation is left out. Twilio's two webhooks get a valid signature on every generated form
that Twilio could have sent (text and numbers, form-encoded), so their parsing is fuzzed past
the signature check; the rest, unsigned, get the documented 403. The one-click unsubscribe gets
its documented 400: no generated token is a valid signed one (its signed path is tested in
tests/email).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from twilio.request_validator import RequestValidator

from accounts.models import SubscriptionTier, Tenant, User
from accounts.roles import MEMBER, SUPER_ADMIN, SUPPORT_ADMIN
from accounts.services import phone_number_add, tenant_create, user_create
from agents.models import AgentInstance
from agents.services import agent_instance_update
from channels_app.chat.services import chat_conversation_create, chat_message_receive
from channels_app.inbound import InboundMessage, message_receive
from channels_app.models import Channel, Message
from engarde.wsgi import application
from hitl.models import HELD_REPLY, HoldReason
from hitl.services.request import approval_request
from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN, FakeTwilio

# The schema /api/schema/ serves (test_the_fuzzed_schema_is_the_served_one), built here rather
# than fetched so that collecting the tests needs no server, database or cache.
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(SCHEMA)

# Bounded so that the whole schema runs in a couple of minutes on two cores. A failing example
# is reported as found (no shrinking), and nothing is kept between runs.
FUZZ = settings(
    max_examples=15,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    # The tenant is made once per operation (a function-scoped fixture), not once per example.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ROLES = ("admin", "support")
PUBLIC = "https://console.example.test"
TWILIO_SIGNED = {"/api/v1/channels/whatsapp/webhook", "/api/v1/channels/whatsapp/status"}
FORM = "application/x-www-form-urlencoded"


@dataclass
class World:
    tokens: dict[str, str]
    # Ids of real objects by path parameter name.
    known: dict[str, list[int]]
    sent: int = 0


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def whatsapp_received(tenant: Tenant, user: User, sid: str, text: str) -> Message:
    """A WhatsApp message from `user`, stored as the webhook stores it, with no turn started."""
    inbound = InboundMessage(
        tenant=tenant, user=user, channel=Channel.WHATSAPP, provider_id=sid, text=text
    )
    return message_receive(inbound, start_turn=False).message


@pytest.fixture
def world(db: None, twilio: FakeTwilio, request: pytest.FixtureRequest) -> Iterator[World]:
    """A tenant as the console sees it: its two admins, a person with a WhatsApp conversation,
    a reply held for approval and a web chat; and another tenant's conversation beside it."""
    tenant = tenant_create(name="Acme", slug="acme", tier=SubscriptionTier.BUSINESS)
    admin = user_create(
        tenant=tenant, username="admin", password=None, roles=[SUPER_ADMIN], is_staff=True
    )
    support = user_create(
        tenant=tenant, username="support", password=None, roles=[SUPPORT_ADMIN], is_staff=True
    )
    maya = user_create(
        tenant=tenant, username="maya", password=None, roles=[MEMBER], email="maya@example.org"
    )
    phone_number_add(user=maya, number="+14155550101", verified=True)
    ads = AgentInstance.objects.get(tenant=tenant, agent__agent_type="paid_ads_optimization")
    agent_instance_update(instance=ads, enabled=True)
    asked = whatsapp_received(
        tenant, maya, "SM" + "1" * 32, "How is my campaign doing? Call me on +1 415 555 0101."
    )
    approval = approval_request(
        tenant=tenant,
        action_type=HELD_REPLY,
        title="Held reply: a human was asked for",
        hold_reasons=[HoldReason.HUMAN_REQUESTED],
        conversation=asked.conversation,
        message=asked,
        requested_by=maya,
        auto_approve=False,
    )
    chat = chat_conversation_create(user=maya, agent_type="paid_ads_optimization")
    chatted = chat_message_receive(
        user=maya, conversation_id=chat.pk, text="Hello there", client_id="fuzz-1"
    ).result.message

    globex = tenant_create(name="Globex", slug="globex")
    ana = user_create(tenant=globex, username="ana", password=None, roles=[MEMBER])
    theirs = whatsapp_received(globex, ana, "SM" + "2" * 32, "Hola")

    world = World(
        tokens={
            "admin": Token.objects.create(user=admin).key,
            "support": Token.objects.create(user=support).key,
        },
        known={
            "conversation_id": [asked.conversation_id, chat.pk, theirs.conversation_id],
            "approval_id": [approval.pk],
            "agent_id": [ads.pk, AgentInstance.objects.filter(tenant=globex).earliest("pk").pk],
            "message_id": [asked.pk, chatted.pk, theirs.pk],
            "user_id": [maya.pk, admin.pk, ana.pk],
        },
    )
    # The requests run in the test's transaction, on its connection. Django closes a connection
    # left in a transaction at the end of each request; as its own test client does, this
    # keeps it open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with override_settings(**twilio.settings(), PUBLIC_BASE_URL=PUBLIC):
            yield world
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        if world.sent:  # a schemathesis test, not one of the plain ones below
            request.node.user_properties.append(("fuzz_requests", world.sent))


def with_real_objects(path_parameters: dict[str, Any], known: dict[str, list[int]], n: int) -> None:
    for name, value in path_parameters.items():
        if name in known and isinstance(value, int | str):
            ids = known[name]
            path_parameters[name] = type(value)(ids[n % len(ids)])


def twilio_signature(case: Any) -> str | None:
    """The signature Twilio would send with this form, if Twilio could have sent it."""
    form = case.body
    if case.media_type != FORM or case.query or not isinstance(form, dict):
        return None
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in form.values()):
        return None
    params = {key: str(value) for key, value in form.items()}
    signature: str = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC + case.path, params)
    return signature


@schema.parametrize()
@FUZZ
def test_every_answer_is_documented_and_none_is_a_server_error(case: Any, world: World) -> None:
    n = world.sent
    world.sent += 1
    if case.path_parameters and n // 2 % 2:
        with_real_objects(case.path_parameters, world.known, n)
    headers = {"Authorization": f"Token {world.tokens[ROLES[n % 2]]}"}
    if case.path in TWILIO_SIGNED:
        signature = twilio_signature(case)
        if signature:
            headers["X-Twilio-Signature"] = signature
    case.call_and_validate(app=application, headers=headers, checks=CHECKS)


def test_the_fuzzed_schema_is_the_served_one(db: None) -> None:
    served = Client().get("/api/schema/", {"format": "json"})
    assert served.status_code == 200
    assert json.loads(served.content) == json.loads(json.dumps(SCHEMA))


# Digits that str.isdigit() accepts and int() refuses (superscripts, circled digits): each was a
# 500 where a number or an id is read from text.
NOT_INT = "\u00b9\u2460"


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/api/v1/admin/hitl/analytics", {"days": NOT_INT}),
        ("get", "/api/v1/admin/hitl/queue", {"assigned_to": NOT_INT}),
        ("get", "/api/v1/channels/email/engagement", {"days": NOT_INT}),
        ("post", "/api/v1/channels/whatsapp/send", {"to": NOT_INT, "message": "Hello"}),
        ("post", "/api/v1/channels/email/send", {"to": NOT_INT, "subject": "Hi", "body": "Hi"}),
    ],
)
def test_a_digit_that_is_no_number_is_a_4xx(
    world: World, method: str, path: str, data: dict[str, str]
) -> None:
    client = Client(headers={"Authorization": f"Token {world.tokens['admin']}"})
    if method == "get":
        response = client.get(path, data)
    else:
        response = client.post(path, data, content_type="application/json")
    assert response.status_code in (400, 404), response.content
    assert response.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/ai-agents/walker/route"])
def test_json_nested_too_deeply_to_read_is_a_400(world: World, path: str) -> None:
    client = Client(headers={"Authorization": f"Token {world.tokens['admin']}"})
    response = client.post(path, "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"
