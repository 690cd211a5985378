from __future__ import annotations

from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Conversations"

    def ready(self) -> None:
        # Personal data (export, erasure) and retention policies, registered with privacy.
        from django.conf import settings

        from channels_app import (
            personal_data,  # noqa: F401
            retention,  # noqa: F401
        )
        from channels_app.approvals import (
            held_reply_discard,
            held_reply_edit,
            held_reply_send,
            requester_tell_on_channel,
        )
        from channels_app.chat import checks as chat_checks  # noqa: F401

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
        from hitl.models import HELD_REPLY
        from hitl.registry import executor_register, requester_notifier_register

        executor_register(
            HELD_REPLY, held_reply_send, discard=held_reply_discard, edit=held_reply_edit
        )
        requester_notifier_register(requester_tell_on_channel)

        if settings.ENABLE_WHATSAPP:
            from channels_app.whatsapp.transport import WhatsAppTransport

            transport_register(Channel.WHATSAPP, WhatsAppTransport())

        if settings.ENABLE_CHAT:
            from channels_app.chat.transport import ChatTransport

            transport_register(Channel.CHAT, ChatTransport())
