from __future__ import annotations

from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from django.conf import settings

        # The email channel registers its admin, checks, tasks and tracking receiver on import.
        from channels_app.email import (  # noqa: F401
            admin as email_admin,
        )
        from channels_app.email import (  # noqa: F401
            checks as email_checks,
        )
        from channels_app.email import (  # noqa: F401
            tasks as email_tasks,
        )
        from channels_app.email import (  # noqa: F401
            webhooks as email_webhooks,
        )
        from channels_app.models import Channel
        from channels_app.transports import transport_register
        from channels_app.whatsapp import checks  # noqa: F401

        if settings.ENABLE_WHATSAPP:
            from channels_app.whatsapp.transport import WhatsAppTransport

            transport_register(Channel.WHATSAPP, WhatsAppTransport())
