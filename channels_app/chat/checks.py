"""System checks for the web chat: warnings at startup instead of a chat that silently never
shows a reply, or a socket any web site can open with a visitor's cookie."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register


@register()
def chat_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.ENABLE_CHAT:
        return []
    warnings: list[CheckMessage] = []
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if backend.endswith("InMemoryChannelLayer") and settings.CHAT_POLL_SECONDS <= 0:
        warnings.append(
            Warning(
                "The web chat is enabled on the in-memory channel layer with CHAT_POLL_SECONDS "
                "at 0: replies written by a worker process never reach the page.",
                hint="Set REDIS_URL (a shared channel layer), or CHAT_POLL_SECONDS above 0.",
                id="channels_app.chat.W001",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        warnings.append(
            Warning(
                "The web chat is enabled and ALLOWED_HOSTS contains '*': the WebSocket then "
                "accepts any Origin, so any web site could open a chat socket with a visitor's "
                "session cookie.",
                hint="List the site's host names in ALLOWED_HOSTS.",
                id="channels_app.chat.W002",
            )
        )
    return warnings
