"""WebSocket routes. Each channel package adds its own (the chat consumer at /ws/chat/)."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
