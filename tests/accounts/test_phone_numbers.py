from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import UserPhoneNumber
from accounts.services import phone_number_add, phone_number_lookup
from privacy.normalize import normalize_phone
from tests.factories import UserFactory


@pytest.mark.parametrize(
    "raw",
    [
        "+14155550101",
        "+1 (415) 555-0101",
        "+1-415-555-0101",
        "+1.415.555.0101",
        "whatsapp:+14155550101",
        "WhatsApp:+1 415 555 0101",
        "tel:+14155550101",
        "(415) 555-0101",
        "  +14155550101  ",
    ],
)
def test_common_forms_normalise_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+14155550101"


def test_uk_number_normalises() -> None:
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "raw", ["banana", "+1 555", "12", "+99 123 456 7890", "whatsapp:", "+1415555010199999"]
)
def test_garbage_is_a_clear_validation_error(raw: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(raw)
    message = " ".join(excinfo.value.messages)
    assert "phone number" in message
    assert "+14155550101" in message  # tells the person what a good one looks like


@pytest.mark.django_db
def test_service_stores_the_normalised_number() -> None:
    phone = phone_number_add(user=UserFactory(), number="whatsapp:+1 (415) 555-0101")
    assert UserPhoneNumber.objects.get(pk=phone.pk).phone_number == "+14155550101"


@pytest.mark.django_db
def test_service_rejects_garbage_and_writes_nothing() -> None:
    user = UserFactory()
    with pytest.raises(ValidationError) as excinfo:
        phone_number_add(user=user, number="not a number")
    assert "phone_number" in excinfo.value.message_dict
    assert not UserPhoneNumber.objects.exists()


@pytest.mark.django_db
def test_a_number_belongs_to_one_account_system_wide() -> None:
    phone_number_add(user=UserFactory(), number="+14155550101")
    someone_else = UserFactory()  # another tenant: the factory makes a new one
    with pytest.raises(ValidationError) as excinfo:
        phone_number_add(user=someone_else, number="whatsapp:+1 415 555 0101")
    assert excinfo.value.messages == ["This number is already linked to an account."]
    assert UserPhoneNumber.objects.count() == 1


@pytest.mark.django_db
def test_unique_number_is_a_database_constraint() -> None:
    phone_number_add(user=UserFactory(), number="+14155550101")
    duplicate = UserPhoneNumber(user=UserFactory(), phone_number="+1 415 555 0101")
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()  # bypasses full_clean: the database itself refuses


@pytest.mark.django_db
def test_one_primary_per_user_is_a_database_constraint() -> None:
    user = UserFactory()
    UserPhoneNumber.objects.create(user=user, phone_number="+14155550101", primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserPhoneNumber.objects.create(user=user, phone_number="+14155550102", primary=True)
    # Non-primary numbers are not limited, and other users have their own primary.
    UserPhoneNumber.objects.create(user=user, phone_number="+14155550103", primary=False)
    UserPhoneNumber.objects.create(user=UserFactory(), phone_number="+14155550104", primary=True)


@pytest.mark.django_db
def test_full_clean_reports_a_second_primary() -> None:
    user = UserFactory()
    UserPhoneNumber.objects.create(user=user, phone_number="+14155550101", primary=True)
    second = UserPhoneNumber(user=user, phone_number="+14155550102", primary=True)
    with pytest.raises(ValidationError) as excinfo:
        second.full_clean()
    assert "This user already has a primary number." in excinfo.value.messages


@pytest.mark.django_db
def test_making_a_number_primary_demotes_the_old_one() -> None:
    user = UserFactory()
    old = phone_number_add(user=user, number="+14155550101", primary=True)
    new = phone_number_add(user=user, number="+14155550102", primary=True)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.primary, new.primary) == (False, True)


@pytest.mark.django_db
def test_lookup_finds_user_and_tenant_from_any_form() -> None:
    user = UserFactory()
    phone_number_add(user=user, number="+14155550101", verified=True, primary=True)
    found = phone_number_lookup("whatsapp:+14155550101")
    assert found is not None and found.user == user and found.user.tenant == user.tenant
    assert phone_number_lookup("+14155550109") is None
    assert phone_number_lookup("garbage") is None


@pytest.mark.django_db
def test_lookup_ignores_erased_and_inactive_users() -> None:
    user = UserFactory(is_deleted=True)
    phone_number_add(user=user, number="+14155550101")
    assert phone_number_lookup("+14155550101") is None


@pytest.mark.django_db
def test_str_never_shows_the_number() -> None:
    phone = phone_number_add(user=UserFactory(), number="+14155550101")
    assert str(phone) == "+1-***-***-0101"
