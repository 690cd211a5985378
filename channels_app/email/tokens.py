"""Signed, expiring links that act for a person without a login: unsubscribe (RFC 8058's
one-click POST among them) and the preferences page. Each purpose has its own salt, so a token
made for one never works for the other."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

UNSUBSCRIBE = "channels_app.email.unsubscribe"
PREFERENCES = "channels_app.email.preferences"
# An old brief's unsubscribe link must keep working long after it was sent (RFC 8058 asks for
# links that work for a reasonable time); a preferences link grants more and lives less.
MAX_AGE = {UNSUBSCRIBE: timedelta(days=90), PREFERENCES: timedelta(days=30)}


class BadToken(Exception):
    def __init__(self, detail: str, *, expired: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.expired = expired


def token_make(*, user_id: int, purpose: str) -> str:
    return signing.dumps({"u": user_id}, salt=purpose)


def token_user_id(token: str, *, purpose: str) -> int:
    """The user the token was made for; BadToken when it is forged, for another purpose, or
    older than the purpose allows."""
    try:
        data = signing.loads(token, salt=purpose, max_age=MAX_AGE[purpose])
    except signing.SignatureExpired:
        raise BadToken("This link has expired.", expired=True) from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None
    user_id = data.get("u") if isinstance(data, dict) else None
    if not isinstance(user_id, int):
        raise BadToken("This link is not valid.")
    return user_id
