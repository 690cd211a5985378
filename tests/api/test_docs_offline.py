"""The API docs page loads nothing from another host: Swagger UI comes from our static files."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_only_our_static_files() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assets += re.findall(r"""["']([^"']+\.(?:js|css))["']""", html)
    assert assets
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), asset
    static = [a for a in assets if a.startswith("/" + settings.STATIC_URL.lstrip("/"))]
    assert any("swagger-ui" in a for a in static)
    for asset in static:
        # Each one is a file this server has (a typo would be a blank page offline).
        name = asset.removeprefix("/" + settings.STATIC_URL.lstrip("/")).split("?")[0]
        assert finders.find(name), asset
