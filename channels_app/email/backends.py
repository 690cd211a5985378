"""EMAIL_BACKEND: every email through the primary ESP, and through the backup when the primary
fails for a reason of its own.

What fails over: the ESP unreachable or timing out, a 5xx, a 429, our key refused (401/403), an
unknown account or domain (404), the ESP not configured here. What does not: the ESP rejecting
the message or its recipient (400, 413, 422, or every recipient refused). The backup would
reject it too, and sending it twice is worse than not at all.

Each sent message carries `esp` (the one that took it) and `esp_failures` (what went wrong
before it). A message no ESP took raises EmailRejected or EmailUnavailable, both
`channels_app.transports.TransportError`, so callers ask `retryable` and never parse an ESP's
errors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from channels_app.transports import TransportError

logger = logging.getLogger(__name__)

ESP_BACKENDS = {
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "console": "anymail.backends.console.EmailBackend",
    "test": "anymail.backends.test.EmailBackend",
}
# The settings (in ANYMAIL) each ESP cannot send without.
ESP_REQUIRED = {"sendgrid": ("SENDGRID_API_KEY",), "mailgun": ("MAILGUN_API_KEY",)}
# The ESP refused the message itself: another ESP would refuse it too.
REJECTING_STATUSES = frozenset({400, 413, 422})


class EmailRejected(TransportError):
    def __init__(self, message: str, *, code: str = "rejected") -> None:
        super().__init__(message, code=code, retryable=False)


class EmailUnavailable(TransportError):
    def __init__(self, message: str, *, code: str = "esp_unavailable") -> None:
        super().__init__(message, code=code, retryable=True)


def esp_chain() -> list[str]:
    return [esp for esp in (settings.EMAIL_ESP, settings.EMAIL_BACKUP_ESP) if esp]


def failure_code(exc: Exception) -> tuple[str, bool]:
    """A short code for what went wrong, and whether the message itself was refused."""
    if isinstance(exc, ImproperlyConfigured):
        return "not_configured", False
    if isinstance(exc, AnymailRecipientsRefused):
        return "recipient_refused", True
    if isinstance(exc, AnymailInvalidAddress):
        return "invalid_address", True
    status = getattr(exc, "status_code", None)
    if status is None:
        return "unreachable", False
    return f"http_{status}", status in REJECTING_STATUSES


class FailoverEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.esps = esp_chain()
        self._connections: dict[str, BaseEmailBackend] = {}

    def _connection(self, esp: str) -> BaseEmailBackend:
        if esp not in self._connections:
            if esp not in ESP_BACKENDS:
                raise ImproperlyConfigured(f"Unknown ESP {esp!r}: use {', '.join(ESP_BACKENDS)}.")
            connection = get_connection(ESP_BACKENDS[esp], fail_silently=False)
            connection.open()
            self._connections[esp] = connection
        return self._connections[esp]

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            try:
                self.send_one(message)
            except TransportError:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def send_one(self, message: EmailMessage) -> None:
        failures: list[str] = []
        for esp in self.esps:
            try:
                self._connection(esp).send_messages([message])
            except (
                AnymailAPIError,
                AnymailInvalidAddress,
                AnymailRecipientsRefused,
                ImproperlyConfigured,
            ) as exc:
                code, refused = failure_code(exc)
                failures.append(f"{esp}:{code}")
                if refused:
                    raise EmailRejected(f"{esp} refused the message ({code}).", code=code) from exc
                # The connection may hold a broken keep-alive socket: the next send opens anew.
                self._drop(esp)
                logger.warning("email: %s failed (%s), trying the next ESP", esp, code)
                continue
            message.esp = esp  # type: ignore[attr-defined]
            message.esp_failures = failures  # type: ignore[attr-defined]
            return
        raise EmailUnavailable(
            "No ESP could send the message: " + (", ".join(failures) or "none configured") + "."
        )

    def _drop(self, esp: str) -> None:
        connection = self._connections.pop(esp, None)
        if connection is not None:
            try:
                connection.close()
            except Exception:
                logger.debug("email: closing the %s connection failed", esp, exc_info=True)
