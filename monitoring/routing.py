from __future__ import annotations

from django.urls import path

from monitoring.live import ConsoleConsumer

# Django's path() is typed for views; Channels' URLRouter takes ASGI applications too.
websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),  # type: ignore[arg-type]
]
