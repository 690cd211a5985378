"""What a member of staff may read of a person's data, per the PRD's tables.

Two rules. Structured fields (a user's phone numbers and email) are shown whole to roles with
`view_pii` and masked for the others. Conversation content (what a person wrote, what the agent
answered, held replies, approval titles quoting them) is masked for EVERY role by default ("Admin
(masked by default)"): a role with `view_pii` may reveal one conversation, with a justification,
for that one view; the reveal shows the kinds of data the PRD's masking table lets that role see
(`accounts.roles.PII_FULL_ACCESS`) and is written to the access log by the view that serves it.
The person the data is about always reads their own conversations whole.
"""

from __future__ import annotations

from typing import Any

from accounts.roles import PII_FULL_ACCESS
from privacy.masking import MASKERS, mask_text


def can_view_pii(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("accounts.view_pii"))


def may_reveal(user: Any) -> bool:
    """Whether the user may reveal a conversation's personal data (with a justification)."""
    return can_view_pii(user)


def pii_kinds_visible(user: Any) -> frozenset[str]:
    """The kinds of personal data a revealed conversation shows this user in full."""
    if not can_view_pii(user):
        return frozenset()
    if user.is_superuser:
        return frozenset(PII_FULL_ACCESS)
    roles = set(user.roles)
    return frozenset(kind for kind, allowed in PII_FULL_ACCESS.items() if roles & allowed)


def text_for(user: Any, text: str, *, revealed: bool = False) -> str:
    """Conversation text as a member of staff reads it: masked, unless they revealed it and
    their role may see the kind of data (then that kind is shown)."""
    if not text:
        return text
    return mask_text(text, keep=pii_kinds_visible(user) if revealed else ())


def mask_for(user: Any, kind: str, value: str) -> str:
    """A structured field: the value itself for a role that may see PII, masked otherwise."""
    if not value:
        return ""
    return str(value) if can_view_pii(user) else MASKERS[kind](str(value))


JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 500


def justification_clean(value: Any) -> str:
    """The reason given for a reveal, or ValueError saying what is wrong with it."""
    text = " ".join(str(value or "").split())
    if not text:
        raise ValueError("A justification is required to reveal personal data.")
    if len(text) < JUSTIFICATION_MIN:
        raise ValueError(
            f"Say why in at least {JUSTIFICATION_MIN} characters (a ticket number, a request)."
        )
    if len(text) > JUSTIFICATION_MAX:
        raise ValueError(f"Keep the justification under {JUSTIFICATION_MAX} characters.")
    return text
