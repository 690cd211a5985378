"""Canonical forms for PII, so equal values encrypt-and-index the same way."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

CHANNEL_PREFIXES = ("whatsapp:", "tel:", "sms:")


def normalize_phone(raw: str) -> str:
    """Return the number in E.164, or raise ValidationError saying what is wrong.

    Accepts the common written forms: `+1 (415) 555-0101`, `+1.415.555.0101`, Twilio's
    `whatsapp:+14155550101`, and national forms in PHONENUMBER_DEFAULT_REGION.
    """
    text = str(raw).strip()
    lowered = text.lower()
    for prefix in CHANNEL_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    if not text:
        raise ValidationError(
            "Enter a phone number in the international form, for example +14155550101.",
            code="required",
        )
    try:
        number = phonenumbers.parse(text, settings.PHONENUMBER_DEFAULT_REGION or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "“%(value)s” is not a phone number: %(reason)s. Use the international form, "
            "for example +14155550101.",
            code="invalid_phone",
            params={"value": raw, "reason": str(exc).split(") ", 1)[-1].rstrip(".")},
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "“%(value)s” is not a valid phone number. Use the international form, "
            "for example +14155550101.",
            code="invalid_phone",
            params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    return str(raw).strip().lower()
