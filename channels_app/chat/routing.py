from __future__ import annotations

from django.urls import path

from channels_app.chat.auth import TokenAuthMiddleware
from channels_app.chat.consumer import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/", TokenAuthMiddleware(ChatConsumer.as_asgi())),
]
