from __future__ import annotations

from itertools import pairwise

import pytest

from accounts.roles import COMPLIANCE_OFFICER, READ_ONLY_ADMIN, SUPER_ADMIN, SUPPORT_ADMIN
from privacy import masking
from privacy.masking import (
    PII_KINDS,
    PiiSpan,
    mask_address,
    mask_api_key,
    mask_card,
    mask_email,
    mask_phone,
    mask_text,
    pii_find,
)
from privacy.reveal import mask_for, text_for
from tests.factories import StaffFactory


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("john@example.com", "j***@example.com"),
        ("a@b.io", "a***@b.io"),
        ("", ""),
    ],
)
def test_mask_email(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+14155550101", "+1-***-***-0101"),
        ("+442079460958", "+44-***-***-0958"),
        ("+1 (415) 555-1234", "+1-***-***-1234"),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


def test_mask_card() -> None:
    assert mask_card("4111 1111 1111 1234") == "**** **** **** 1234"


def test_mask_api_key() -> None:
    assert mask_api_key("sk-abcdef0123456789xyz123") == "sk-***...***123"


def test_mask_address() -> None:
    assert mask_address("123 Main St, Springfield, IL 62701") == "123 Main St, [CITY MASKED]"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees_pii"),
    [
        (SUPER_ADMIN, True),
        (COMPLIANCE_OFFICER, True),
        (SUPPORT_ADMIN, False),
        (READ_ONLY_ADMIN, False),
    ],
)
def test_masking_follows_the_role(role: str, sees_pii: bool) -> None:
    user = StaffFactory(roles=[role])
    shown = mask_for(user, "phone", "+14155550101")
    assert (shown == "+14155550101") is sees_pii
    if not sees_pii:
        assert shown == "+1-***-***-0101"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "Call me on +1 415 555 0199 or maya.chen@gmail.com",
            "Call me on +1-***-***-0199 or m***@gmail.com",
        ),
        ("(415) 555-0142, ext. Ana", "+1-***-***-0142, ext. Ana"),
        ("London: +44 20 7946 0958.", "London: +44-***-***-0958."),
        # Not valid in any numbering plan (Twilio's test numbers), still somebody's digits.
        (
            "The 'To' number +15005550001 is not valid",
            "The 'To' number +1-***-***-0001 is not valid",
        ),
        ("Order 123456 cost $45.00 on 2026-11-30", "Order 123456 cost $45.00 on 2026-11-30"),
        ("", ""),
    ],
)
def test_mask_text_masks_the_emails_and_phone_numbers_in_free_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.django_db
def test_text_for_masks_for_every_role_and_reveals_only_to_roles_that_may_see_pii() -> None:
    text = "Reach me at ana@globex.example"
    masked = "Reach me at a***@globex.example"
    compliance = StaffFactory(roles=[COMPLIANCE_OFFICER])
    support = StaffFactory(roles=[SUPPORT_ADMIN])
    assert text_for(compliance, text) == masked  # masked by default
    assert text_for(compliance, text, revealed=True) == text
    assert text_for(support, text) == masked
    assert text_for(support, text, revealed=True) == masked


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Reply to billing+acme@mail.globex.example.", "email", "billing+acme@mail.globex.example"),
        ("Call 415.555.0142 tonight", "phone", "415.555.0142"),
        ("Desk +1 212 555 0187 ext. 23", "phone", "+1 212 555 0187 ext. 23"),
        ("Bonjour, le +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
        ("From abroad dial 0044 20 7946 0958", "phone", "0044 20 7946 0958"),
        ("card 4111-1111-1111-1111 exp 12/27", "card", "4111-1111-1111-1111"),
        ("amex 3782 822463 10005", "card", "3782 822463 10005"),
        (
            "key=sk-proj-9aZ3kQ7xLm2Rt8Vb4Nc6Yd1We5Hf0Jg",
            "api_key",
            "sk-proj-9aZ3kQ7xLm2Rt8Vb4Nc6Yd1We5Hf0Jg",
        ),
        ("AWS AKIAIOSFODNN7EXAMPLE leaked", "api_key", "AKIAIOSFODNN7EXAMPLE"),
        (
            "SLACK=xoxb-123456789012-1234567890123-Ab3dEf5hIj7lMn9pQr1tUv3x",
            "api_key",
            "xoxb-123456789012-1234567890123-Ab3dEf5hIj7lMn9pQr1tUv3x",
        ),
        (
            "Deliver to 221B Baker Street, London NW1 6XE",
            "address",
            "221B Baker Street, London NW1 6XE",
        ),
        ("I live at 742 Evergreen Terrace.", "address", "742 Evergreen Terrace"),
    ],
)
def test_pii_find_finds_each_kind(text: str, kind: str, value: str) -> None:
    start = text.index(value)
    assert pii_find(text) == [PiiSpan(kind, start, start + len(value), value)]


@pytest.mark.parametrize(
    "text",
    [
        "Order #100234567 cost $1,250.00 (€3.10 each) on 2026-12-01 at 10:30, 12/01/2026",
        "ROAS 3.10x, CTR 12.5%, Q4 Prospecting 2026, v2.14.3, server 192.168.0.12",
        # 16 digits shaped like a card that fail the Luhn check; Luhn-valid with no card's prefix.
        "Transaction 4111 1111 1111 1112 and barcode 5901234123457",
        "sk-ii serum, a skill, https://shop.example/p/sk-ii-facial-essence-230ml, task-force",
        "3 posts about our winter sale, the Q4 plan, 10 Downing campaigns",
        "follow @acme_shop, ping @maya_chen",
        "Order #2125550187 and INV-2026-000123 are references, not phone numbers",
    ],
)
def test_pii_find_leaves_look_alikes_alone(text: str) -> None:
    assert pii_find(text) == []


def test_mask_text_masks_every_kind_in_the_prds_formats() -> None:
    text = (
        "Maya (maya.chen@gmail.com, (415) 555-0142) paid with 4111 1111 1111 1111 and "
        "sent sk-abcdef0123456789xyz123; ship to 123 Main St, Springfield, IL 62701."
    )
    assert mask_text(text) == (
        "Maya (m***@gmail.com, +1-***-***-0142) paid with **** **** **** 1111 and "
        "sent sk-***...***123; ship to 123 Main St, [CITY MASKED]."
    )


def test_mask_text_shows_a_phone_numbers_last_digits_not_its_extension() -> None:
    assert mask_text("Desk +1 212 555 0187 ext. 23") == "Desk +1-***-***-0187"


def test_mask_text_keeps_the_kinds_asked_for() -> None:
    text = "maya.chen@gmail.com, +1 415 555 0142, 4242 4242 4242 4242"
    assert mask_text(text, keep={"email", "card"}) == (
        "maya.chen@gmail.com, +1-***-***-0142, 4242 4242 4242 4242"
    )
    assert mask_text(text, keep=PII_KINDS) == text


def test_mask_text_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="passport"):
        mask_text("anything", keep={"passport"})


def test_a_number_inside_an_email_is_the_email() -> None:
    text = "WhatsApp ID 14155550142@s.whatsapp.net"
    assert [span.kind for span in pii_find(text)] == ["email"]
    assert mask_text(text) == "WhatsApp ID 1***@s.whatsapp.net"


def test_finds_are_sorted_and_do_not_overlap() -> None:
    text = "4111 1111 1111 1111 (415) 555-0142 sk_live_51Hx9vQ2eZvKYlo2C8fT3bNx a@b.io " * 3
    spans = pii_find(text)
    assert [span.kind for span in spans] == ["card", "phone", "api_key", "email"] * 3
    assert all(span.value == text[span.start : span.end] for span in spans)
    assert all(left.end <= right.start for left, right in pairwise(spans))


def test_past_the_matchers_budget_runs_of_digits_are_masked_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(masking, "PHONE_MATCHER_BUDGET", 0)
    # Not a valid number anywhere, masked all the same: the matcher was not asked.
    assert mask_text("call 123 456 7890 now") == "call +1-***-***-7890 now"
    # A card number in such a run is still masked as a card, the rest as a number.
    assert mask_text("4111 1111 1111 1111 415 555 0142") == "**** **** **** 1111 +1-***-***-0142"


def test_past_the_parse_budget_numbers_are_masked_without_their_country_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(masking, "PHONE_PARSE_BUDGET", 1)
    assert mask_text("+44 20 7946 0958 or +33 6 12 34 56 78") == (
        "+44-***-***-0958 or ***-***-5678"
    )
