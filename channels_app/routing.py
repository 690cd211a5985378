"""WebSocket routes. Each channel package adds its own (the chat consumer at /ws/chat/)."""

from __future__ import annotations

from django.urls import URLPattern

from channels_app.chat.routing import websocket_urlpatterns as chat_routes

websocket_urlpatterns: list[URLPattern] = [*chat_routes]
