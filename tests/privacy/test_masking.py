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
