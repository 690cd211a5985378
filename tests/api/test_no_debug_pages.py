"""Under /api/ (the API and the channels' webhooks) no error is Django's technical page, even
with DEBUG on: the page shows settings, the stack and local variables. Django chooses that page
by settings.DEBUG when it answers, so override_settings(DEBUG=True) reaches it here."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/nothing/", "/api/v1/users/"])
def test_an_unknown_api_path_is_a_json_404_with_debug_on(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "not_found", "detail": f"Nothing at {path}."}


@override_settings(DEBUG=True)
def test_pages_outside_the_api_keep_djangos_debug_404() -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Using the URLconf defined in" in response.content


@override_settings(
    DEBUG=True, ENABLE_WHATSAPP=True, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN, PUBLIC_BASE_URL=""
)
@pytest.mark.parametrize(
    "path", ["/api/v1/users/me", "/api/v1/channels/whatsapp/webhook", "/api/v1/nothing"]
)
def test_a_bad_request_is_json_with_debug_on(path: str) -> None:
    # A Host not in ALLOWED_HOSTS: Django's debug answer is its technical page, with a 400.
    response = Client(HTTP_HOST="evil.example").post(
        path, {"Body": "my private message", "From": "whatsapp:+14155550101"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request",
        "detail": "The request could not be understood.",
    }
    assert TEST_AUTH_TOKEN.encode() not in response.content
