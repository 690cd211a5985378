"""System checks for the WhatsApp integration: a warning at startup, not a crash at the first
message, when the switch is on but Twilio is not configured."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

REQUIRED_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER")


@register()
def whatsapp_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.ENABLE_WHATSAPP:
        return []
    warnings: list[CheckMessage] = []
    missing = [name for name in REQUIRED_SETTINGS if not getattr(settings, name, "")]
    if missing:
        warnings.append(
            Warning(
                f"WhatsApp is enabled but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set: every webhook will be refused "
                "(403) and nothing can be sent.",
                hint="Set them in the environment, or ENABLE_WHATSAPP=False.",
                id="channels_app.whatsapp.W001",
            )
        )
    if not settings.PUBLIC_BASE_URL:
        warnings.append(
            Warning(
                "WhatsApp is enabled but PUBLIC_BASE_URL is empty: Twilio signatures are checked "
                "against the URL this server sees, which behind a proxy or load balancer is not "
                "the one Twilio called, so every webhook would be refused.",
                hint="Set PUBLIC_BASE_URL to the public origin Twilio calls, for example "
                "https://console.example.com.",
                id="channels_app.whatsapp.W002",
            )
        )
    return warnings
