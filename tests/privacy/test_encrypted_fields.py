from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings

from channels_app.models import Message
from privacy import crypto
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_message_body_is_stored_only_encrypted() -> None:
    message = MessageFactory(body="Raise the Meta budget to 900 a day")
    stored = raw_column("channels_app_message", "body", message.pk)
    assert "Meta budget" not in stored
    assert crypto.decrypt(stored) == "Raise the Meta budget to 900 a day"
    assert Message.objects.get(pk=message.pk).body == "Raise the Meta budget to 900 a day"


def test_bulk_update_stores_each_rows_own_encrypted_value() -> None:
    first, second = MessageFactory(body="first"), MessageFactory(body="second")
    first.body, second.body = "first, edited", "second, edited"
    Message.objects.bulk_update([first, second], ["body"])

    for message, expected in ((first, "first, edited"), (second, "second, edited")):
        stored = raw_column("channels_app_message", "body", message.pk)
        # The library stored the encrypted text of the SQL CASE expression here.
        assert "CASE" not in crypto.decrypt(stored)
        assert Message.objects.get(pk=message.pk).body == expected


def test_rotation_first_key_encrypts_every_key_decrypts() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEY=[old_key]):
        message = MessageFactory(body="written under the old key")
    with override_settings(FIELD_ENCRYPTION_KEY=[new_key, old_key]):
        assert Message.objects.get(pk=message.pk).body == "written under the old key"
        message.save()  # re-encrypts under the new key
    with override_settings(FIELD_ENCRYPTION_KEY=[new_key]):
        assert Message.objects.get(pk=message.pk).body == "written under the old key"


def test_a_value_no_key_opens_is_an_error_not_ciphertext() -> None:
    message = MessageFactory(body="secret")
    with (
        override_settings(FIELD_ENCRYPTION_KEY=[Fernet.generate_key().decode()]),
        pytest.raises(crypto.DecryptionError),
    ):
        Message.objects.get(pk=message.pk)


def test_lookups_on_ciphertext_are_refused_instead_of_matching_nothing() -> None:
    MessageFactory(body="hello")
    with pytest.raises(FieldError):
        list(Message.objects.filter(body="hello"))
    with pytest.raises(FieldError):
        list(Message.objects.filter(body__icontains="hell"))
    assert Message.objects.filter(body__isnull=False).count() == 1


def test_empty_string_round_trips_encrypted() -> None:
    message = MessageFactory(body="")
    assert Message.objects.get(pk=message.pk).body == ""
    assert raw_column("channels_app_message", "body", message.pk) != ""
