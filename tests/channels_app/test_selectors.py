"""The conversation selectors: what a viewer may see of a conversation, whatever its channel."""

from __future__ import annotations

import pytest
from django.test import Client

from channels_app.models import Conversation, Message
from channels_app.selectors import (
    message_page,
    message_search,
    message_text,
    messages_visible,
)
from tests.conftest import TenantPeople
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

WROTE = "Finance can be reached at +1 415 555 0142 or billing@acme.example about the budget."
MASKED = "Finance can be reached at +1-***-***-0142 or b***@acme.example about the budget."


@pytest.fixture
def conversation(people: TenantPeople) -> Conversation:
    person = UserFactory(tenant=people.tenant, username="maya")
    return ConversationFactory(tenant=people.tenant, user=person)


def test_staff_read_the_text_masked_until_they_reveal_it(
    people: TenantPeople, conversation: Conversation
) -> None:
    message = MessageFactory(conversation=conversation, body=WROTE)

    assert message_text(message, viewer=people.teammate) == MASKED
    assert message_text(message, viewer=people.owner) == MASKED  # masked by default
    assert message_text(message, viewer=people.owner, revealed=True) == WROTE
    assert message_text(message, viewer=people.teammate, revealed=True) == MASKED  # no right
    assert message_text(message, viewer=conversation.user) == WROTE  # their own words


def test_held_replies_are_for_staff_until_approved(
    people: TenantPeople, conversation: Conversation
) -> None:
    asked = MessageFactory(conversation=conversation)
    held = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        delivery_status=Message.DeliveryStatus.HELD,
        reply_to=asked,
    )

    assert list(messages_visible(conversation, viewer=conversation.user)) == [asked]
    assert list(messages_visible(conversation, viewer=people.teammate)) == [asked, held]


def test_pages_go_back_from_the_latest_and_forward_from_an_id(
    people: TenantPeople, conversation: Conversation
) -> None:
    messages = [MessageFactory(conversation=conversation) for _ in range(5)]

    latest = message_page(conversation, viewer=people.owner, limit=2)
    assert latest.messages == messages[3:] and latest.has_more
    earlier = message_page(conversation, viewer=people.owner, limit=2, before=messages[3].pk)
    assert earlier.messages == messages[1:3] and earlier.has_more
    first = message_page(conversation, viewer=people.owner, limit=2, before=messages[1].pk)
    assert first.messages == messages[:1] and not first.has_more
    after = message_page(conversation, viewer=people.owner, limit=3, after=messages[0].pk)
    assert after.messages == messages[1:4] and after.has_more


def test_search_needs_every_word_and_reads_only_the_latest_it_may_scan(
    conversation: Conversation,
) -> None:
    old = MessageFactory(conversation=conversation, body="Raise the Meta budget by $500")
    MessageFactory(conversation=conversation, body="What is my budget?")
    new = MessageFactory(conversation=conversation, body="the BUDGET for meta, again")

    found = message_search(Message.objects.all(), "meta budget", limit=10, scan=10)
    assert [m.pk for m in found] == [new.pk, old.pk]
    assert message_search(Message.objects.all(), "meta budget", limit=10, scan=2) == [new]
    assert message_search(Message.objects.all(), "   ", limit=10, scan=10) == []


def test_the_admins_transcript_masks_the_text_for_every_role(
    people: TenantPeople, conversation: Conversation
) -> None:
    MessageFactory(conversation=conversation, body=WROTE)
    url = f"/admin/channels_app/conversation/{conversation.pk}/change/"

    support = Client()
    support.force_login(people.teammate)
    page = support.get(url).content.decode()
    assert MASKED in page
    assert "0142 or billing" not in page and "555 0142" not in page

    admin = Client()
    admin.force_login(people.owner)
    page = admin.get(url).content.decode()
    assert MASKED in page and "555 0142" not in page
