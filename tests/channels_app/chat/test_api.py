"""The chat's REST API: the caller's own conversations only, every error a JSON 4xx."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from accounts.models import User
from agents.models import AgentInstance
from channels_app.chat.services import chat_conversation_create
from channels_app.models import Bookmark, Channel, Conversation
from hitl.services import approval_request
from tests.channels_app.chat.helpers import enable_agents
from tests.conftest import TenantPeople
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def agents_enabled(people: TenantPeople) -> None:
    """Both tenants' plans include the paid-ads and SEO agents."""
    for tenant in (people.tenant, people.other_tenant):
        enable_agents(tenant, "paid_ads_optimization", "seo_optimization")


BASE = "/api/v1/channels/chat/"
PAID_ADS = "paid_ads_optimization"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def chat(user: User, *texts: str, agent_type: str = PAID_ADS) -> Conversation:
    conversation = chat_conversation_create(user=user, agent_type=agent_type)
    for n, text in enumerate(texts):
        MessageFactory(
            conversation=conversation,
            body=text,
            direction="outbound" if n % 2 else "inbound",
            sender_kind="agent" if n % 2 else "user",
            agent_type=PAID_ADS if n % 2 else "",
            delivery_status="sent" if n % 2 else "received",
        )
    return conversation


def test_create_list_and_open_a_conversation(people: TenantPeople) -> None:
    client = login(people.owner)
    created = client.post(BASE + "conversations", {"agent_type": PAID_ADS}, "application/json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["agent_type"] == PAID_ADS and body["agent_name"] == "Paid Ads Marketing Agent"
    assert body["title"] == "New chat"
    conversation = Conversation.objects.get(pk=body["id"])
    assert conversation.channel == Channel.CHAT and conversation.user == people.owner

    MessageFactory(conversation=conversation, body="What is our **ROAS** this week?")
    listed = client.get(BASE + "conversations").json()["results"]
    assert [c["id"] for c in listed] == [conversation.pk]
    assert listed[0]["title"] == "What is our **ROAS** this week?"

    detail = client.get(f"{BASE}conversations/{conversation.pk}").json()
    assert detail["messages"][0]["html"] == "<p>What is our <strong>ROAS</strong> this week?</p>\n"
    assert detail["has_more"] is False and detail["processing"] is False


def test_token_authentication_works_too(people: TenantPeople) -> None:
    token = Token.objects.create(user=people.owner)
    response = Client().get(BASE + "conversations", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "agent_type"), ({"agent_type": "growth_hacker"}, "agent_type")],
)
def test_create_refuses_unknown_agents(people: TenantPeople, payload: dict, field: str) -> None:
    response = login(people.owner).post(BASE + "conversations", payload, "application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["fields"]
    assert not Conversation.objects.exists()


def test_create_refuses_an_agent_outside_the_plan(people: TenantPeople) -> None:
    AgentInstance.objects.filter(tenant=people.tenant, agent__agent_type=PAID_ADS).update(
        enabled=False
    )
    response = login(people.owner).post(
        BASE + "conversations", {"agent_type": PAID_ADS}, "application/json"
    )
    assert response.status_code == 400
    assert "plan" in response.json()["fields"]["agent_type"][0]


def test_history_is_paginated_backwards(people: TenantPeople) -> None:
    conversation = chat(people.owner, *[f"message {n}" for n in range(7)])
    client = login(people.owner)
    first = client.get(f"{BASE}conversations/{conversation.pk}?limit=3").json()
    assert [m["content"] for m in first["messages"]] == ["message 4", "message 5", "message 6"]
    assert first["has_more"] is True
    oldest = first["messages"][0]["id"]
    second = client.get(f"{BASE}conversations/{conversation.pk}?limit=3&before={oldest}").json()
    assert [m["content"] for m in second["messages"]] == ["message 1", "message 2", "message 3"]
    for bad in ("limit=abc", "before=0", "limit=-1"):
        response = client.get(f"{BASE}conversations/{conversation.pk}?{bad}")
        assert response.status_code == 400 and response.json()["error"] == "invalid"


def test_held_replies_are_hidden_and_their_actions_are_cards(people: TenantPeople) -> None:
    conversation = chat(people.owner, "Should we scale Spring Sale?")
    question = conversation.messages.get()
    held = MessageFactory(
        conversation=conversation,
        direction="outbound",
        sender_kind="agent",
        body="Raise it to $300/day",
        delivery_status="held",
        reply_to=question,
    )
    approval_request(
        tenant=people.tenant,
        action_type="budget_increase",
        title="Raise Spring Sale to $300",
        action_data={"rationale": {"roas": "4.2"}},
        conversation=conversation,
        message=held,
        estimated_cost=Decimal("3000"),
        estimated_reach=120000,
    )
    detail = login(people.owner).get(f"{BASE}conversations/{conversation.pk}").json()
    assert [m["id"] for m in detail["messages"]] == [question.pk]
    [card] = detail["cards"]
    assert card["title"] == "Raise Spring Sale to $300" and card["status"] == "pending"
    assert card["estimated_cost"] == "3000.00" and card["estimated_reach"] == 120000
    assert card["figures"] == [{"label": "ROAS", "value": "4.2"}]
    assert card["reply_to"] == question.pk


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_other_peoples_conversations_answer_404(people: TenantPeople, who: str) -> None:
    conversation = chat(people.owner, "owner's secret question")
    message = conversation.messages.get()
    client = login(getattr(people, who))
    assert client.get(BASE + "conversations").json()["results"] == []
    for method, path in [
        ("get", f"conversations/{conversation.pk}"),
        ("delete", f"conversations/{conversation.pk}"),
        ("get", f"conversations/{conversation.pk}/export/json"),
        ("put", f"messages/{message.pk}/bookmark"),
        ("delete", f"messages/{message.pk}/bookmark"),
    ]:
        response = getattr(client, method)(BASE + path)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "not_found"
    assert client.get(BASE + "search?q=secret").json()["results"] == []
    conversation.refresh_from_db()
    assert not conversation.is_deleted and not Bookmark.objects.exists()


def test_whatsapp_conversations_are_not_chats(people: TenantPeople) -> None:
    whatsapp = MessageFactory(conversation__tenant=people.tenant, conversation__user=people.owner)
    client = login(people.owner)
    assert client.get(BASE + "conversations").json()["results"] == []
    assert client.get(f"{BASE}conversations/{whatsapp.conversation_id}").status_code == 404


def test_soft_delete_hides_and_keeps(people: TenantPeople) -> None:
    conversation = chat(people.owner, "delete me later")
    client = login(people.owner)
    assert client.delete(f"{BASE}conversations/{conversation.pk}").status_code == 204
    conversation.refresh_from_db()
    assert conversation.is_deleted and conversation.deleted_at is not None
    assert conversation.messages.count() == 1  # kept for the console and retention
    assert client.get(BASE + "conversations").json()["results"] == []
    assert client.get(f"{BASE}conversations/{conversation.pk}").status_code == 404
    assert client.get(BASE + "search?q=delete").json()["results"] == []
    assert client.delete(f"{BASE}conversations/{conversation.pk}").status_code == 404


def test_bookmarks(people: TenantPeople) -> None:
    conversation = chat(people.owner, "question", "The **answer** worth keeping")
    answer = conversation.messages.get(sender_kind="agent")
    client = login(people.owner)
    assert client.put(f"{BASE}messages/{answer.pk}/bookmark").status_code == 204
    assert client.put(f"{BASE}messages/{answer.pk}/bookmark").status_code == 204  # again: fine
    assert Bookmark.objects.filter(user=people.owner).count() == 1
    [listed] = client.get(BASE + "bookmarks").json()["results"]
    assert listed["message_id"] == answer.pk and "answer" in listed["snippet"]
    detail = client.get(f"{BASE}conversations/{conversation.pk}").json()
    assert [m["bookmarked"] for m in detail["messages"]] == [False, True]
    assert client.delete(f"{BASE}messages/{answer.pk}/bookmark").status_code == 204
    assert client.get(BASE + "bookmarks").json()["results"] == []


def test_search_finds_every_word_across_conversations(people: TenantPeople) -> None:
    first = chat(people.owner, "How is Meta doing?", "Meta ROAS is 3.1x this week")
    second = chat(people.owner, "Any keyword news?", "Running shoes moved up to position 4")
    chat(people.teammate, "Meta ROAS for the teammate")
    client = login(people.owner)
    hits = client.get(BASE + "search?q=meta roas").json()["results"]
    assert [(h["conversation_id"], h["kind"]) for h in hits] == [(first.pk, "agent")]
    assert hits[0]["conversation_title"] == "How is Meta doing?"
    assert "Meta ROAS" in hits[0]["snippet"]
    hits = client.get(BASE + "search?q=POSITION").json()["results"]
    assert [h["conversation_id"] for h in hits] == [second.pk]
    assert client.get(BASE + "search?q=nowhere").json()["results"] == []
    response = client.get(BASE + "search?q=")
    assert response.status_code == 400 and "q" in response.json()["fields"]


def test_export_markdown_and_json(people: TenantPeople) -> None:
    conversation = chat(people.owner, "What is our ROAS?", "ROAS is **3.1x**")
    client = login(people.owner)
    markdown = client.get(f"{BASE}conversations/{conversation.pk}/export/markdown")
    assert markdown.status_code == 200
    assert markdown["Content-Type"].startswith("text/markdown")
    assert (
        markdown["Content-Disposition"]
        == f'attachment; filename="engarde-chat-{conversation.pk}.md"'
    )
    text = markdown.content.decode()
    assert text.startswith("# What is our ROAS?")
    assert "## You ·" in text and "## Paid Ads Marketing Agent ·" in text
    assert "ROAS is **3.1x**" in text

    exported = client.get(f"{BASE}conversations/{conversation.pk}/export/json")
    data = json.loads(exported.content)
    assert [m["content"] for m in data["messages"]] == ["What is our ROAS?", "ROAS is **3.1x**"]
    assert data["conversation"]["id"] == conversation.pk and data["exported_by"] == "owner"
    assert client.get(f"{BASE}conversations/{conversation.pk}/export/pdf").status_code == 404


def test_anonymous_callers_get_401(db: None) -> None:
    response = Client().get(BASE + "conversations")
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"


@override_settings(ENABLE_CHAT=False)
def test_switched_off_answers_503(people: TenantPeople) -> None:
    response = login(people.owner).get(BASE + "conversations")
    assert response.status_code == 503 and response.json()["error"] == "disabled"


def test_the_schema_documents_the_chat_api(people: TenantPeople) -> None:
    schema = login(people.owner).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/channels/chat/conversations",
        "/api/v1/channels/chat/conversations/{conversation_id}",
        "/api/v1/channels/chat/conversations/{conversation_id}/export/{kind}",
        "/api/v1/channels/chat/search",
        "/api/v1/channels/chat/bookmarks",
        "/api/v1/channels/chat/messages/{message_id}/bookmark",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/channels/chat/conversations/{conversation_id}"]) >= {
        "get",
        "delete",
    }
