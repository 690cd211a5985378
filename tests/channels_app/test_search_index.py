"""Search in encrypted message bodies through the blind token index."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

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
