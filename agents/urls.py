from __future__ import annotations

from django.urls import path

from agents.api import AgentDetailView, AgentListView, AnalyticsView, ExecuteView, RouteView
from agents.api_import import MarketingDataImportView

urlpatterns = [
    path("list", AgentListView.as_view(), name="walker-list"),
    path("route", RouteView.as_view(), name="walker-route"),
    path("data/<str:kind>/import", MarketingDataImportView.as_view(), name="walker-data-import"),
    path("<int:agent_id>", AgentDetailView.as_view(), name="walker-detail"),
    path("<int:agent_id>/analytics", AnalyticsView.as_view(), name="walker-analytics"),
    path("<int:agent_id>/execute", ExecuteView.as_view(), name="walker-execute"),
]
