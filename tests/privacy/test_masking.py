from __future__ import annotations

import pytest

from accounts.roles import COMPLIANCE_OFFICER, READ_ONLY_ADMIN, SUPER_ADMIN, SUPPORT_ADMIN
from privacy.masking import (
    mask_address,
    mask_api_key,
    mask_card,
    mask_email,
    mask_for,
    mask_phone,
    mask_text,
    text_for,
)
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
def test_text_for_shows_the_text_whole_only_to_roles_that_may_see_pii() -> None:
    text = "Reach me at ana@globex.example"
    assert text_for(StaffFactory(roles=[COMPLIANCE_OFFICER]), text) == text
    assert text_for(StaffFactory(roles=[SUPPORT_ADMIN]), text) == "Reach me at a***@globex.example"
