from __future__ import annotations

from django.urls import path

from privacy.api import DeleteAccountView, ExportDataView

# Mounted under /api/v1/ (engarde/urls.py).
urlpatterns: list = [
    path("users/me/export-data", ExportDataView.as_view(), name="api-export-data"),
    path("users/me/delete-account", DeleteAccountView.as_view(), name="api-delete-account"),
]
