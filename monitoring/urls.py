from __future__ import annotations

from django.urls import path

from monitoring.analytics_api import DashboardView, ExportView, RealtimeView, WalkerAgentsView
from monitoring.api import (
    ConversationDetailView,
    ConversationListView,
    ConversationRevealView,
    ConversationSearchView,
    ConversationStatsView,
    HandbackView,
    HumanReplyView,
    PriorityQueueView,
    TakeoverView,
)
from privacy.access_log_api import AccessLogView

# Mounted under /api/v1/admin/ (engarde/urls.py).
urlpatterns = [
    path("access-log", AccessLogView.as_view(), name="api-admin-access-log"),
    path("conversations", ConversationListView.as_view(), name="api-admin-conversations"),
    path(
        "conversations/search",
        ConversationSearchView.as_view(),
        name="api-admin-conversations-search",
    ),
    path(
        "conversations/queue",
        PriorityQueueView.as_view(),
        name="api-admin-conversations-queue",
    ),
    path(
        "conversations/stats",
        ConversationStatsView.as_view(),
        name="api-admin-conversations-stats",
    ),
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
    path(
        "conversations/<int:conversation_id>/takeover",
        TakeoverView.as_view(),
        name="api-admin-conversation-takeover",
    ),
    path(
        "conversations/<int:conversation_id>/messages",
        HumanReplyView.as_view(),
        name="api-admin-conversation-messages",
    ),
    path(
        "conversations/<int:conversation_id>/handback",
        HandbackView.as_view(),
        name="api-admin-conversation-handback",
    ),
    path("analytics/dashboard", DashboardView.as_view(), name="api-admin-analytics-dashboard"),
    path(
        "analytics/walker-agents",
        WalkerAgentsView.as_view(),
        name="api-admin-analytics-walker-agents",
    ),
    path(
        "analytics/walker-agents/realtime",
        RealtimeView.as_view(),
        name="api-admin-analytics-realtime",
    ),
    path("analytics/export", ExportView.as_view(), name="api-admin-analytics-export"),
]
