"""Search in encrypted message bodies through the blind token index."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from channels_app.models import Message, MessageToken
from channels_app.search_index import messages_found, tokens_of
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

PLAN = "Our win-back flow lost budget in Q4: call Leo on +1 (415) 555-0102 or leo@Acme.example"


@pytest.fixture
def planted(people: TenantPeople) -> Message:
    leo = UserFactory(tenant=people.tenant, username="leo")
    conversation = ConversationFactory(tenant=people.tenant, user=leo)
    MessageFactory(conversation=conversation, body="How is my Meta campaign doing?")
    # Through the outbound path, as every stored message is indexed.
    from channels_app.outbound import message_store

    return message_store(conversation=conversation, sender_kind="agent", body=PLAN)


def found(people: TenantPeople, text: str, tenant_id: int | None = None) -> list[int]:
    tenant = people.tenant.pk if tenant_id is None else tenant_id
    return list(
        messages_found(Message.objects.all(), tenant_id=tenant, text=text).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "budget",
        "BUDGET",
        "win-back",
        "win back",
        "Win-Back budget q4",
        '"lost budget"',
        "+14155550102",
        "(415) 555-0102",
        "LEO@acme.example",
    ],
)
def test_words_phrases_numbers_and_emails_find_the_message(
    people: TenantPeople, planted: Message, text: str
) -> None:
    assert found(people, text) == [planted.pk]


@pytest.mark.parametrize(
    "text", ["budget missing", '"budget lost"', "+14155550199", "ana@acme.example", "", "   "]
)
def test_every_word_must_match(people: TenantPeople, planted: Message, text: str) -> None:
    assert found(people, text) == []


def test_another_tenant_never_finds_it(people: TenantPeople, planted: Message) -> None:
    assert found(people, "budget", tenant_id=people.other_tenant.pk) == []


def test_no_word_is_at_rest_and_the_tokens_depend_on_the_key(planted: Message) -> None:
    tokens = set(MessageToken.objects.filter(message=planted).values_list("token", flat=True))
    assert tokens == tokens_of(PLAN) and all(isinstance(t, int) for t in tokens)
    with override_settings(PII_HASH_KEY="another-key"):
        assert tokens_of(PLAN).isdisjoint(tokens)


def test_the_command_fills_what_is_missing_and_rebuilds(
    people: TenantPeople, planted: Message
) -> None:
    MessageToken.objects.all().delete()
    call_command("index_messages")
    assert found(people, "win-back") == [planted.pk]
    with override_settings(PII_HASH_KEY="rotated-key"):
        assert found(people, "win-back") == []  # old tokens, new key
        call_command("index_messages", "--rebuild")
        assert found(people, "win-back") == [planted.pk]


def test_the_console_search_finds_what_was_written(people: TenantPeople, planted: Message) -> None:
    other = ConversationFactory(tenant=people.other_tenant)
    MessageFactory(conversation=other, body="Globex win-back budget")
    support = Client()
    support.force_login(people.teammate)
    for term in ("win-back", "+14155550102", "budget"):
        page = support.get("/admin/channels_app/conversation/", {"q": term})
        assert page.status_code == 200
        rows = list(page.context["cl"].result_list)
        assert [c.pk for c in rows] == [planted.conversation_id], term


def test_a_megabyte_of_text_is_tokenised_in_bounded_time() -> None:
    for text in ("a" * 1_000_000, "a-" * 500_000, "+1 " * 330_000, "x@y." * 250_000):
        started = time.process_time()
        tokens_of(text)
        assert time.process_time() - started < 10, text[:10]


@pytest.fixture
def many(people: TenantPeople) -> dict[str, list[int]]:
    """Eight conversations: the common word in every other one, the rare word in one, the two
    together in one; another tenant holds both words too."""
    from channels_app.outbound import message_store

    holders: dict[str, list[int]] = {"common": [], "both": [], "username": []}
    for n in range(8):
        conversation = ConversationFactory(tenant=people.tenant)
        body = "weekly numbers" if n % 2 else "weekly budget review"
        if n == 5:
            body = "budget and a rare zeppelin"
        message_store(conversation=conversation, sender_kind="user", body=body)
        message_store(conversation=conversation, sender_kind="agent", body="noted")
        if "budget" in body:
            holders["common"].append(conversation.pk)
        if "zeppelin" in body:
            holders["both"].append(conversation.pk)
    leo = UserFactory(tenant=people.tenant, username="zeppelin")
    holders["username"].append(ConversationFactory(tenant=people.tenant, user=leo).pk)
    elsewhere = ConversationFactory(tenant=people.other_tenant)
    message_store(conversation=elsewhere, sender_kind="user", body="budget zeppelin")
    return holders


def matched(people: TenantPeople, text: str) -> list[int]:
    from channels_app.models import Conversation
    from channels_app.search_index import conversations_matching

    condition = conversations_matching(tenant_id=people.tenant.pk, text=text)
    return sorted(
        Conversation.objects.filter(tenant=people.tenant)
        .filter(condition)
        .values_list("pk", flat=True)
    )


@pytest.mark.parametrize("gather_max", [5000, 2, 1])
def test_gathering_and_walking_find_the_same_conversations(
    people: TenantPeople, many: dict[str, list[int]], monkeypatch: Any, gather_max: int
) -> None:
    """Few matches are gathered by message id; past GATHER_MAX each conversation is probed.
    Both plans give the same answer, and the walk is the one taken past the limit."""
    from channels_app import search_index

    monkeypatch.setattr(search_index, "GATHER_MAX", gather_max)
    with CaptureQueriesContext(connection) as queries:
        common = matched(people, "budget")
    probe = '"channels_app_message" V0 WHERE (V0."conversation_id" = ("channels_app_conversation"'
    walked = any(probe in query["sql"] for query in queries)
    assert walked == (len(many["common"]) > gather_max)
    assert common == sorted(many["common"])
    assert matched(people, "zeppelin budget") == many["both"]
    assert matched(people, "BUDGET Zeppelin") == many["both"]
    assert matched(people, "budget nowhere") == []
    assert matched(people, '"rare zeppelin"') == many["both"]
    assert matched(people, '"zeppelin rare"') == []


def test_the_admin_finds_by_words_username_and_id_a_page_at_a_time(
    people: TenantPeople, many: dict[str, list[int]], monkeypatch: Any
) -> None:
    from channels_app import search_index

    monkeypatch.setattr(search_index, "GATHER_MAX", 1)
    support = Client()
    support.force_login(people.teammate)

    def rows(term: str) -> list[int]:
        page = support.get("/admin/channels_app/conversation/", {"q": term})
        assert page.status_code == 200
        return sorted(c.pk for c in page.context["cl"].result_list)

    assert rows("zeppelin") == sorted(many["both"] + many["username"])
    assert rows("budget") == sorted(many["common"])
    assert rows(str(many["both"][0])) == many["both"]
    assert rows("zeppelin budget") == many["both"]
