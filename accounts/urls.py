from __future__ import annotations

from django.urls import path

from accounts.api import MeView, TokenObtainView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("users/me", MeView.as_view(), name="api-me"),
]
