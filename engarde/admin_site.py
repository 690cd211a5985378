"""Callbacks the admin theme (django-unfold) reads from settings.UNFOLD."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

ENVIRONMENT_COLOURS = {"production": "danger", "staging": "warning"}


def environment_badge(request: HttpRequest) -> list[str]:
    name = settings.ENGARDE_ENVIRONMENT
    return [name, ENVIRONMENT_COLOURS.get(name, "info")]
