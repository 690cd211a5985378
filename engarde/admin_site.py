"""Callbacks the admin theme (django-unfold) reads from settings.UNFOLD."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

from hitl.admin_views import approvals_navigation

ENVIRONMENT_COLOURS = {"production": "danger", "staging": "warning"}


def environment_badge(request: HttpRequest) -> list[str]:
    name = settings.ENGARDE_ENVIRONMENT
    return [name, ENVIRONMENT_COLOURS.get(name, "info")]


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """The approvals first (with their badges), then every app the user may see, as the stock
    list would show them."""
    groups = []
    approvals = approvals_navigation(request)
    if approvals is not None:
        groups.append(approvals)
    shown = {item["link"] for item in approvals["items"]} if approvals else set()
    for app in admin.site.get_app_list(request):
        items = [
            {"title": model["name"], "link": model["admin_url"]}
            for model in app["models"]
            if model.get("admin_url") and model["admin_url"] not in shown
        ]
        if items:
            groups.append({"title": app["name"], "items": items})
    return groups
