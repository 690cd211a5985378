"""A conversation's page is a thread: the header, each message with its status, confidence and
the approvals it raised (linked both ways), the events; masked, read-only, deleted softly."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.roles import SUPPORT_ADMIN
from tests.factories import StaffFactory
from tests.planted import Planted, leaked


def page(planted: Planted, who: str = "support") -> str:
    response = planted.client(who).get(
        f"/admin/channels_app/conversation/{planted.conversation.pk}/change/"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_thread_shows_each_message_masked_with_its_approval(planted: Planted) -> None:
    html = page(planted)
    assert 'id="thread"' in html and 'id="conversation-header"' in html
    assert f'data-id="{planted.question.pk}"' in html and f'data-id="{planted.held.pk}"' in html
    assert "Held for approval" in html and "confidence 0.31" in html
    assert f"/admin/hitl/approval/{planted.held_approval.pk}/change/" in html
    assert leaked(html) == []
    assert 'name="_save"' not in html  # nothing to edit


def test_the_approval_links_back_to_its_conversation(planted: Planted) -> None:
    response = planted.client("support").get(
        f"/admin/hitl/approval/{planted.held_approval.pk}/change/"
    )
    html = response.content.decode()
    assert f"/admin/channels_app/conversation/{planted.conversation.pk}/change/" in html
    assert f"/admin/accounts/user/{planted.person.pk}/change/" in html


def test_the_page_costs_the_same_queries_for_a_longer_thread(planted: Planted) -> None:
    from channels_app.outbound import message_store

    client = planted.client("support")
    url = f"/admin/channels_app/conversation/{planted.conversation.pk}/change/"
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    for n in range(20):
        message_store(conversation=planted.conversation, sender_kind="agent", body=f"Reply {n}")
    assert queries() == before


def test_only_super_admins_delete_and_it_is_soft(planted: Planted) -> None:
    url = f"/admin/channels_app/conversation/{planted.conversation.pk}/delete/"
    assert planted.client("support").post(url, {"post": "yes"}).status_code == 403
    other_support = Client()
    other_support.force_login(StaffFactory(tenant=planted.tenant, roles=[SUPPORT_ADMIN]))
    assert "Delete (soft" not in page(planted, "support")
    assert "Delete (soft" in page(planted, "owner")
    planted.client("owner").post(url, {"post": "yes"})
    planted.conversation.refresh_from_db()
    assert planted.conversation.is_deleted and planted.conversation.deleted_at is not None
