"""Revealing one conversation's personal data: who may, with what reason, what each role then
sees, and that it lasts for that view only."""

from __future__ import annotations

from typing import Any

import pytest

from privacy.models import AdminAccessLog
from privacy.reveal import text_for
from tests.planted import NEEDLES, Planted, leaked

REASON = "Ticket 4411: the customer asked for a call back"


def reveal(planted: Planted, who: str, body: Any, conversation_id: int | None = None) -> Any:
    return planted.client(who).post(
        f"/api/v1/admin/conversations/{conversation_id or planted.conversation.pk}/reveal",
        body,
        content_type="application/json",
    )


def reveals() -> Any:
    return AdminAccessLog.objects.filter(action=AdminAccessLog.Action.REVEAL_PII)


def test_a_super_admin_reveals_everything_once_with_the_reason_logged(planted: Planted) -> None:
    response = reveal(planted, "owner", {"justification": REASON})
    assert response.status_code == 200
    body = response.json()
    assert body["revealed"] is True and body["masked_kinds"] == []
    assert response["Cache-Control"] == "no-store"
    [entry] = reveals()
    assert entry.admin_user == planted.staff["owner"]
    assert (entry.resource_type, entry.resource_id) == (
        "conversation",
        str(planted.conversation.pk),
    )
    assert entry.pii_accessed and entry.justification == REASON
    assert entry.tenant_id == planted.tenant.pk and entry.ip_hash and len(entry.ip_hash) == 64

    # For that view only: the next read is masked again.
    again = planted.client("owner").get(f"/api/v1/admin/conversations/{planted.conversation.pk}")
    assert again.status_code == 200 and leaked(again.content.decode()) == []
    assert again.json()["revealed"] is False


def test_a_compliance_officer_sees_what_the_prds_table_gives_the_role(planted: Planted) -> None:
    response = reveal(planted, "compliance", {"justification": REASON})
    assert response.status_code == 200
    # Email, phone and address: Admin and Compliance. Cards: Finance and Admin. Keys: Admin.
    assert sorted(leaked(response.content.decode())) == ["address", "email", "phone"]
    assert sorted(response.json()["masked_kinds"]) == ["api_key", "card"]


@pytest.mark.parametrize("who", ["support", "readonly"])
def test_roles_without_the_right_are_refused_and_nothing_is_logged(
    planted: Planted, who: str
) -> None:
    response = reveal(planted, who, {"justification": REASON})
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert not reveals().exists()


@pytest.mark.parametrize("who", ["manager", "cfo"])
def test_roles_outside_the_console_cannot_reach_conversations(planted: Planted, who: str) -> None:
    assert reveal(planted, who, {"justification": REASON}).status_code == 403


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "This field is required."),
        ({"justification": ""}, "This field may not be blank."),
        ({"justification": "   "}, "This field may not be blank."),
        ({"justification": "because"}, "at least 10 characters"),
        ({"justification": "x" * 501}, "no more than 500 characters"),
    ],
)
def test_a_reveal_without_a_real_reason_is_a_400_naming_the_field(
    planted: Planted, body: dict[str, str], says: str
) -> None:
    response = reveal(planted, "owner", body)
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid"
    assert says in error["fields"]["justification"][0]
    assert not reveals().exists()


def test_another_tenants_conversation_is_not_found(planted: Planted) -> None:
    assert reveal(planted, "outsider", {"justification": REASON}).status_code == 404
    assert reveal(planted, "owner", {"justification": REASON}, 999_999).status_code == 404
    assert not reveals().exists()


def test_the_admins_show_full_pii_control_reveals_for_one_page(planted: Planted) -> None:
    change = f"/admin/channels_app/conversation/{planted.conversation.pk}/change/"
    reveal_url = f"/admin/channels_app/conversation/{planted.conversation.pk}/reveal/"
    owner = planted.client("owner")
    page = owner.get(change).content.decode()
    assert 'id="reveal-form"' in page and leaked(page) == []

    revealed = owner.post(reveal_url, {"justification": REASON})
    assert revealed.status_code == 200 and "no-store" in revealed["Cache-Control"]
    assert sorted(leaked(revealed.content.decode())) == sorted(NEEDLES)
    assert reveals().get().justification == REASON

    # Without a reason: back to the masked page with the error, nothing revealed or logged.
    refused = owner.post(reveal_url, {"justification": ""}, follow=True)
    assert "A justification is required" in refused.content.decode()
    assert leaked(refused.content.decode()) == [] and reveals().count() == 1
    # A GET never reveals.
    assert owner.get(reveal_url).status_code == 302


def test_support_has_no_control_and_its_post_is_refused(planted: Planted) -> None:
    support = planted.client("support")
    page = support.get(f"/admin/channels_app/conversation/{planted.conversation.pk}/change/")
    html = page.content.decode()
    assert 'id="reveal-form"' not in html and "Your role may not reveal them." in html
    refused = support.post(
        f"/admin/channels_app/conversation/{planted.conversation.pk}/reveal/",
        {"justification": REASON},
    )
    assert refused.status_code == 403 and not reveals().exists()


def test_the_person_reads_their_own_words_whole(planted: Planted) -> None:
    from channels_app.selectors import message_text

    assert message_text(planted.question, viewer=planted.person) == planted.question.body
    assert leaked(message_text(planted.question, viewer=planted.staff["owner"])) == []


def test_text_for_masks_for_every_role_unless_revealed(planted: Planted) -> None:
    text = planted.held.body
    for user in planted.staff.values():
        assert leaked(text_for(user, text)) == []
    assert sorted(leaked(text_for(planted.staff["owner"], text, revealed=True))) == [
        "api_key",
        "card",
        "phone",
    ]
    assert leaked(text_for(planted.staff["support"], text, revealed=True)) == []
    assert leaked(text_for(planted.staff["cfo"], text, revealed=True)) == []  # no view_pii
