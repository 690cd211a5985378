from __future__ import annotations

from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from django.conf import settings

        from channels_app.chat import checks as chat_checks  # noqa: F401
        from channels_app.models import Channel
        from channels_app.transports import transport_register
        from channels_app.whatsapp import checks  # noqa: F401

        if settings.ENABLE_WHATSAPP:
            from channels_app.whatsapp.transport import WhatsAppTransport

            transport_register(Channel.WHATSAPP, WhatsAppTransport())

        if settings.ENABLE_CHAT:
            from channels_app.chat.transport import ChatTransport

            transport_register(Channel.CHAT, ChatTransport())
