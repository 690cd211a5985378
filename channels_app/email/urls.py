"""/api/v1/channels/email/... (the API, the ESPs' tracking webhooks)."""

from __future__ import annotations

from django.urls import path

from channels_app.email.api import (
    EngagementView,
    PreferencesView,
    SendDailyBriefView,
    SendView,
    TemplatesView,
    UnsubscribeView,
)
from channels_app.email.webhooks import MailgunTracking, SendGridTracking

urlpatterns = [
    path("preferences/<int:user_id>", PreferencesView.as_view(), name="email-preferences"),
    path("send-daily-brief/<int:user_id>", SendDailyBriefView.as_view(), name="email-send-brief"),
    path("send", SendView.as_view(), name="email-send"),
    path("templates", TemplatesView.as_view(), name="email-templates"),
    path("unsubscribe", UnsubscribeView.as_view(), name="email-unsubscribe"),
    path("engagement", EngagementView.as_view(), name="email-engagement"),
    path("webhooks/sendgrid/tracking/", SendGridTracking.as_view(), name="email-sendgrid-tracking"),
    path("webhooks/mailgun/tracking/", MailgunTracking.as_view(), name="email-mailgun-tracking"),
]
