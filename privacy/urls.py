from __future__ import annotations

from django.urls import path  # noqa: F401

# Mounted under /api/v1/ (engarde/urls.py).
urlpatterns: list = []
