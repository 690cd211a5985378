from __future__ import annotations

from django.urls import path

from channels_app.whatsapp.views import (
    ConversationsView,
    SendView,
    StatusCallbackView,
    WebhookView,
)

urlpatterns = [
    path("webhook", WebhookView.as_view(), name="whatsapp-webhook"),
    path("status", StatusCallbackView.as_view(), name="whatsapp-status"),
    path("send", SendView.as_view(), name="whatsapp-send"),
    path(
        "conversations/<int:user_id>",
        ConversationsView.as_view(),
        name="whatsapp-conversations",
    ),
]
