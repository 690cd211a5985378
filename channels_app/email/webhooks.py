"""The ESPs' tracking webhooks: anymail's views parse and verify each ESP's events and send
anymail's `tracking` signal, which is anymail's documented way in; the receiver hands each
normalised event to `tracking_event_apply`.

anymail lets a webhook through unauthenticated when ANYMAIL_WEBHOOK_SECRET is unset (it only
warns): here it is refused instead, so nobody can forge a bounce to stop someone's briefs.
"""

from __future__ import annotations

from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.utils import get_anymail_setting
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.dispatch import receiver
from django.http import HttpRequest

from channels_app.email.services import tracking_event_apply


class SecretRequired:
    def validate_request(self, request: HttpRequest) -> None:
        if not get_anymail_setting("webhook_secret", default=None):
            raise AnymailWebhookValidationFailure(
                "Tracking webhooks are refused until ANYMAIL_WEBHOOK_SECRET is set."
            )


class SendGridTracking(SecretRequired, SendGridTrackingWebhookView):
    pass


class MailgunTracking(SecretRequired, MailgunTrackingWebhookView):
    """Mailgun signs its calls; the shared secret (Basic auth in the URL) is checked too."""


@receiver(tracking, dispatch_uid="channels_app.email.tracking")
def on_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    tracking_event_apply(event=event, esp_name=esp_name)
