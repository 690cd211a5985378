"""/email/...: the pages an email links to, for people without a console login."""

from __future__ import annotations

from django.urls import path

from channels_app.email.pages import preferences_page, unsubscribe_page

urlpatterns = [
    path("unsubscribe/", unsubscribe_page, name="email-unsubscribe-page"),
    path("preferences/", preferences_page, name="email-preferences-page"),
]
