"""Encrypted model fields and keyed blind indexes.

The fields subclass django-encrypted-model-fields and fix what it gets wrong for us:
- `bulk_update()` hands the field a SQL expression (CASE WHEN ...); the library encrypted
  `str(expression)` and stored that. Expressions now pass through; their values are prepared
  one by one through `Value(..., output_field=field)`, which encrypts them.
- A value that no key decrypts raised nothing and came back as ciphertext; now it raises.
- Lookups on ciphertext can never match (every encryption is salted), so they are refused with a
  FieldError instead of silently returning nothing: look rows up through the blind index.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import encrypted_model_fields.fields as library
from django.conf import settings
from django.db import models

from privacy import crypto
from privacy.normalize import normalize_email, normalize_phone

ALLOWED_LOOKUPS = frozenset({"isnull"})

if TYPE_CHECKING:
    # The mixin only ever sits on model fields; the library itself ships no types.
    _FieldBase = models.Field[Any, Any]
else:
    _FieldBase = object


class EncryptedFieldMixin(_FieldBase):
    # Placed before the library's EncryptedMixin in the MRO; `super(library.EncryptedMixin, ...)`
    # skips the library's own crypto and reaches the plain Django field underneath.
    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ALLOWED_LOOKUPS:
            return None
        return super().get_lookup(lookup_name)

    def to_python(self, value: Any) -> Any:
        # Values reaching to_python are plaintext (forms, fixtures); the database's go through
        # from_db_value, so nothing is guessed from the value's shape.
        return super(library.EncryptedMixin, self).to_python(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self.to_python(crypto.decrypt(value))

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if hasattr(value, "as_sql"):
            return value
        value = models.Field.get_db_prep_save(self, value, connection)
        if value is None:
            return None
        return crypto.encrypt(str(value))


class EncryptedCharField(EncryptedFieldMixin, library.EncryptedCharField):
    pass


class EncryptedTextField(EncryptedFieldMixin, library.EncryptedTextField):
    pass


class EncryptedEmailField(EncryptedFieldMixin, library.EncryptedEmailField):
    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return normalize_email(value) if value else value


class EncryptedPhoneField(EncryptedFieldMixin, library.EncryptedCharField):
    """A phone number stored encrypted, always in E.164 (`+14155550101`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return normalize_phone(value) if value else value


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC-SHA256 of a normalised value: equal inputs match, the value is not revealed."""
    key = settings.PII_HASH_KEY.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


BLIND_INDEX_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "phone": normalize_phone,
    "email": normalize_email,
}


def phone_index(raw: str) -> str:
    return blind_index(normalize_phone(raw), purpose="phone")


def email_index(raw: str) -> str:
    return blind_index(normalize_email(raw), purpose="email")


class BlindIndexField(models.CharField):
    """Holds `blind_index(<source field>)`, recomputed whenever the row is saved.

    `PIIQuerySet.bulk_update` recomputes it too, since bulk_update does not call pre_save.
    """

    def __init__(self, *args: Any, source: str, purpose: str, **kwargs: Any) -> None:
        if purpose not in BLIND_INDEX_NORMALIZERS:
            raise ValueError(f"Unknown blind index purpose {purpose!r}.")
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def compute(self, instance: models.Model) -> str | None:
        value = getattr(instance, self.source)
        if not value:
            return None if self.null else ""
        normalized = BLIND_INDEX_NORMALIZERS[self.purpose](str(value))
        return blind_index(normalized, purpose=self.purpose)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


class PIIQuerySet(models.QuerySet):
    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        objs = list(objs)
        fields = list(fields)
        for field in self.model._meta.concrete_fields:
            if isinstance(field, BlindIndexField) and field.source in fields:
                for obj in objs:
                    setattr(obj, field.attname, field.compute(obj))
                if field.name not in fields:
                    fields.append(field.name)
        return super().bulk_update(objs, fields, batch_size=batch_size)


class BlindIndexedModelMixin:
    """Lets full_clean() check constraints on blind indexes.

    The indexes are not editable, so forms exclude them from validation and a duplicate would
    only surface as an IntegrityError on save. Each index is derived here and validated whenever
    its source field is.
    """

    def validate_constraints(self, exclude: Any = None) -> None:
        exclude = set(exclude or ())
        for field in self._meta.concrete_fields:  # type: ignore[attr-defined]
            if isinstance(field, BlindIndexField) and field.source not in exclude:
                setattr(self, field.attname, field.compute(self))  # type: ignore[arg-type]
                exclude.discard(field.name)
        super().validate_constraints(exclude=exclude)  # type: ignore[misc]
