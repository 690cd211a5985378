from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from channels_app.chat.urls import api_urlpatterns as chat_api
from monitoring.views import healthz, readyz

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("privacy.urls")),
    path("ai-agents/walker/", include("agents.urls")),
    path("channels/whatsapp/", include("channels_app.whatsapp.urls")),
    path("admin/hitl/", include("hitl.urls")),
    path("admin/", include("monitoring.urls")),
    path("channels/email/", include("channels_app.email.urls")),
    path("channels/chat/", include(chat_api)),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("chat/", include("channels_app.chat.urls")),
    path("api/v1/", include(api_v1)),
    path("email/", include("channels_app.email.page_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split: Swagger UI's settings script comes from this URL too (?script), not inline, so the
    # Content-Security-Policy needs no 'unsafe-inline' for it.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc builds its search index in a web worker it starts from a blob: URL: only this page
    # may start one. The template leaves out what the policy refuses (web fonts, a CDN logo).
    path(
        "api/redoc/",
        csp_update({"worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

handler400 = "engarde.errors.bad_request"
handler403 = "engarde.errors.permission_denied"
handler404 = "engarde.errors.page_not_found"
handler500 = "engarde.errors.server_error"
