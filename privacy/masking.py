"""How PII looks to someone whose role may not see it (the PRD's masking table)."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.conf import settings

MASK = "***"
REDACTED = "[redacted]"


def mask_email(email: str) -> str:
    """`john@example.com` -> `j***@example.com`."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    if not at:
        return mask_generic(email)
    return f"{local[:1]}{MASK}@{domain}"


def mask_phone(phone: str) -> str:
    """`+14155550101` -> `+1-***-***-0101`."""
    if not phone:
        return ""
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    try:
        country = phonenumbers.parse(str(phone), None).country_code
    except phonenumbers.NumberParseException:
        country = None
    last4 = digits[-4:]
    prefix = f"+{country}-" if country else ""
    return f"{prefix}{MASK}-{MASK}-{last4}"


# Free text: what a person wrote, an agent's reply, a provider's error message.
# A match may only start where a word does, so a long run of word characters is scanned once,
# not once per character (the unanchored pattern took 16 s of CPU on 100,000 characters).
EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
# International numbers the matcher below leaves alone because they are not valid in any plan
# (Twilio's test numbers, a typo), still somebody's digits.
E164_IN_TEXT = re.compile(r"(?<![\w+])\+\d{7,15}(?!\d)")


def mask_text(text: str) -> str:
    """Free text with the emails and phone numbers in it masked, in the PRD's formats; the rest
    stays readable. Phone numbers are found by libphonenumber's matcher in any format (the
    region of DEFAULT_PHONE_REGION for those without a country code), and always shown with
    their country code, as the PRD's `+1-***-***-1234`."""
    if not text:
        return text
    text = EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group()), text)
    pieces, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, settings.PHONENUMBER_DEFAULT_REGION):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        pieces += [text[last : match.start], mask_phone(e164)]
        last = match.end
    text = "".join(pieces) + text[last:]
    return E164_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)


def mask_card(number: str) -> str:
    """`4111 1111 1111 1234` -> `**** **** **** 1234`."""
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    return f"**** **** **** {digits[-4:]}" if digits else ""


def mask_api_key(key: str) -> str:
    """`sk-live-abcdef123` -> `sk-***...***123`: the prefix and the last three characters."""
    if not key:
        return ""
    prefix = key.split("-", 1)[0] + "-" if "-" in key[:8] else key[:2]
    if len(key) <= len(prefix) + 3:
        return f"{prefix}{MASK}"
    return f"{prefix}{MASK}...{MASK}{key[-3:]}"


def mask_address(address: str) -> str:
    """`123 Main St, Springfield, IL 62701` -> `123 Main St, [CITY MASKED]`."""
    if not address:
        return ""
    street, comma, _rest = address.partition(",")
    return f"{street.strip()}, [CITY MASKED]" if comma else "[ADDRESS MASKED]"


def mask_generic(value: str) -> str:
    return f"{value[:1]}{MASK}" if value else ""


def redact(value: Any) -> str:
    """Audit-log masking: the change is recorded, the value is not."""
    return REDACTED


MASKERS = {
    "email": mask_email,
    "phone": mask_phone,
    "card": mask_card,
    "api_key": mask_api_key,
    "address": mask_address,
}


def can_view_pii(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("accounts.view_pii"))


def text_for(user: Any, text: str) -> str:
    """Free text as this user may read it: whole for a role that may see PII, masked else."""
    return text if can_view_pii(user) else mask_text(text)


def mask_for(user: Any, kind: str, value: str) -> str:
    """The value itself for a role that may see PII, its masked form for everyone else."""
    if not value:
        return ""
    return str(value) if can_view_pii(user) else MASKERS[kind](str(value))
