from __future__ import annotations

from django.urls import path

from monitoring.api import ConversationDetailView, ConversationRevealView
from privacy.access_log_api import AccessLogView

# Mounted under /api/v1/admin/ (engarde/urls.py).
urlpatterns = [
    path("access-log", AccessLogView.as_view(), name="api-admin-access-log"),
    path(
        "conversations/<int:conversation_id>",
        ConversationDetailView.as_view(),
        name="api-admin-conversation",
    ),
    path(
        "conversations/<int:conversation_id>/reveal",
        ConversationRevealView.as_view(),
        name="api-admin-conversation-reveal",
    ),
]
