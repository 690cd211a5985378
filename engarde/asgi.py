"""HTTP goes to Django; WebSockets go through the session/token auth stack to the channel routes."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engarde.settings.local")
if not settings.configured:
    # No persistent database connections under ASGI, as Django's docs advise: each request runs
    # in a thread of its own, so a connection kept after it is never used again, and under load
    # the kept ones pile up until PostgreSQL refuses new clients. CONN_MAX_AGE set in the
    # environment still wins.
    os.environ.setdefault("CONN_MAX_AGE", "0")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from channels_app.routing import websocket_urlpatterns as channel_routes  # noqa: E402
from engarde.daphne_options import daphne_configure  # noqa: E402
from monitoring.routing import websocket_urlpatterns as console_routes  # noqa: E402

daphne_configure()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            # The stubs want their own URLPattern subclass; Channels takes Django's path().
            AuthMiddlewareStack(URLRouter(channel_routes + console_routes))  # type: ignore[arg-type]
        ),
    }
)
