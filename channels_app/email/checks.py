"""System checks for the email briefs: a warning at startup, not a failure at the first brief,
when an ESP is chosen but not configured."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from channels_app.email.backends import ESP_BACKENDS, ESP_REQUIRED


@register()
def email_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    anymail = getattr(settings, "ANYMAIL", {})
    for setting in ("EMAIL_ESP", "EMAIL_BACKUP_ESP"):
        esp = getattr(settings, setting, "")
        if esp and esp not in ESP_BACKENDS:
            messages.append(
                Error(
                    f"{setting} is {esp!r}, which is not an ESP this server knows.",
                    hint=f"Use one of {', '.join(ESP_BACKENDS)}.",
                    id="channels_app.email.E001",
                )
            )
    if not settings.ENABLE_EMAIL_BRIEFS:
        return messages
    primary, backup = settings.EMAIL_ESP, settings.EMAIL_BACKUP_ESP
    missing = [name for name in ESP_REQUIRED.get(primary, ()) if not anymail.get(name)]
    if missing:
        messages.append(
            Warning(
                f"Email briefs are on and {primary} sends them, but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set: every brief will go through "
                "the backup ESP, or fail.",
                hint="Set it in the environment, choose another EMAIL_ESP, or "
                "ENABLE_EMAIL_BRIEFS=False.",
                id="channels_app.email.W001",
            )
        )
    missing = [name for name in ESP_REQUIRED.get(backup, ()) if not anymail.get(name)]
    if missing:
        messages.append(
            Warning(
                f"{backup} is the backup ESP but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set: nothing will take over when "
                f"{primary} fails.",
                hint="Set it, or EMAIL_BACKUP_ESP to empty for no backup.",
                id="channels_app.email.W002",
            )
        )
    if {primary, backup} & {"sendgrid", "mailgun"} and not anymail.get("WEBHOOK_SECRET"):
        messages.append(
            Warning(
                "ANYMAIL_WEBHOOK_SECRET is not set: the ESPs' tracking webhooks are refused, so "
                "deliveries, opens, clicks and bounces are not recorded and bounced addresses "
                "keep getting briefs.",
                hint="Set it to a random user:password and give the ESPs the webhook URLs "
                "with it (README, Email briefs).",
                id="channels_app.email.W003",
            )
        )
    if "mailgun" in (primary, backup) and not anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        messages.append(
            Warning(
                "Mailgun sends, but MAILGUN_WEBHOOK_SIGNING_KEY is not set: its tracking "
                "webhooks cannot be verified and are refused.",
                hint="Copy the webhook signing key from Mailgun's dashboard.",
                id="channels_app.email.W004",
            )
        )
    if not settings.PUBLIC_BASE_URL:
        messages.append(
            Warning(
                "Email briefs are on but PUBLIC_BASE_URL is empty: the links in them "
                "(unsubscribe, preferences, actions) point at http://localhost:8000.",
                hint="Set PUBLIC_BASE_URL to the console's public origin.",
                id="channels_app.email.W005",
            )
        )
    return messages
