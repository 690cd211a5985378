from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from accounts.models import UserPhoneNumber
from accounts.services import phone_number_lookup
from tests.factories import MessageFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
OLD_HASH, NEW_HASH = "old-hash-key-" + "a" * 32, "new-hash-key-" + "b" * 32


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_rekey_moves_every_value_to_the_new_keys() -> None:
    with override_settings(FIELD_ENCRYPTION_KEY=[OLD], PII_HASH_KEY=OLD_HASH):
        message = MessageFactory(body="quarterly budget plan")
        phone = PhoneNumberFactory(phone_number="+14155550123")

    with override_settings(FIELD_ENCRYPTION_KEY=[NEW, OLD], PII_HASH_KEY=NEW_HASH):
        assert phone_number_lookup("+14155550123") is None  # index still under the old key
        call_command("rekey_pii", verbosity=0)
        assert phone_number_lookup("+14155550123").pk == phone.pk

    stored = raw("channels_app_message", "body", message.pk)
    assert Fernet(NEW).decrypt(stored.encode()) == b"quarterly budget plan"
    with pytest.raises(InvalidToken):
        Fernet(OLD).decrypt(stored.encode())
    stored_phone = raw("accounts_userphonenumber", "phone_number", phone.pk)
    assert Fernet(NEW).decrypt(stored_phone.encode()) == b"+14155550123"

    with override_settings(FIELD_ENCRYPTION_KEY=[NEW], PII_HASH_KEY=NEW_HASH):
        assert UserPhoneNumber.objects.get(pk=phone.pk).phone_number == "+14155550123"
