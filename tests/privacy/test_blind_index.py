from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from accounts.models import User, UserPhoneNumber
from privacy.fields import blind_index, email_index, phone_index
from tests.factories import PhoneNumberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_equal_numbers_in_any_form_share_one_index() -> None:
    forms = ["+14155550101", "+1 (415) 555-0101", "whatsapp:+14155550101", "(415) 555-0101"]
    assert len({phone_index(form) for form in forms}) == 1


def test_index_is_keyed() -> None:
    plain = phone_index("+14155550101")
    with override_settings(PII_HASH_KEY="another-key-of-at-least-thirty-two-characters"):
        assert phone_index("+14155550101") != plain
    # Not a bare hash of the value: without the key it cannot be recomputed.
    import hashlib

    assert plain != hashlib.sha256(b"phone:+14155550101").hexdigest()


def test_phone_row_is_found_through_its_index_and_holds_no_plaintext() -> None:
    phone = PhoneNumberFactory(phone_number="+1 415 555 0199")
    assert UserPhoneNumber.objects.get(phone_hash=phone_index("whatsapp:+14155550199")) == phone
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone_number, phone_hash FROM accounts_userphonenumber WHERE id = %s",
            [phone.pk],
        )
        stored, index = cursor.fetchone()
    assert "4155550199" not in stored and "4155550199" not in index
    assert index == blind_index("+14155550199", purpose="phone")


def test_email_index_ignores_case_and_spaces() -> None:
    user = UserFactory(email=" Maya@Acme.Example ")
    assert User.objects.get(email_hash=email_index("maya@acme.example")) == user
    assert User.objects.get(pk=user.pk).email == "maya@acme.example"


def test_bulk_update_recomputes_the_index() -> None:
    phone = PhoneNumberFactory(phone_number="+14155550150")
    phone.phone_number = "+14155550151"
    UserPhoneNumber.objects.bulk_update([phone], ["phone_number"])
    assert UserPhoneNumber.objects.get(phone_hash=phone_index("+14155550151")).pk == phone.pk
    assert not UserPhoneNumber.objects.filter(phone_hash=phone_index("+14155550150")).exists()
