from __future__ import annotations

from django.urls import path

from hitl import api

urlpatterns = [
    path("queue", api.QueueView.as_view(), name="hitl-queue"),
    path("analytics", api.AnalyticsView.as_view(), name="hitl-analytics"),
    path("<int:approval_id>", api.ApprovalDetailView.as_view(), name="hitl-detail"),
    path("<int:approval_id>/approve", api.ApproveView.as_view(), name="hitl-approve"),
    path("<int:approval_id>/reject", api.RejectView.as_view(), name="hitl-reject"),
    path("<int:approval_id>/escalate", api.EscalateView.as_view(), name="hitl-escalate"),
    path(
        "<int:approval_id>/request-changes",
        api.RequestChangesView.as_view(),
        name="hitl-request-changes",
    ),
]
