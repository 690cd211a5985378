"""Bodies the API cannot read get a JSON 4xx, with DEBUG on or off, and nothing is stored: an
empty or broken multipart form, a body over DATA_UPLOAD_MAX_MEMORY_SIZE. Through the test client,
and through a real daphne, whose Twisted once answered a multipart body it could not parse
itself, with a bare 400 (no Content-Type, no body)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from channels_app.models import Message
from tests.channels_app.chat.servers import Daphne
from tests.integration.fixtures import AUTH_TOKEN, PUBLIC, WEBHOOK, inbound, sign
from tests.integration.worker import worker_env

TOKEN = "/api/v1/auth/token/"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WHATSAPP = {"ENABLE_WHATSAPP": True, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC}
# Multipart bodies Django reads as an empty form or refuses, and Twisted could not parse.
BROKEN_FORMS = [
    pytest.param("multipart/form-data", b"", id="no-boundary-empty"),
    pytest.param("multipart/form-data", b"Body=hello", id="no-boundary"),
    pytest.param("multipart/form-data; boundary=xyz", b"--xyz--\r\n", id="closing-boundary-only"),
    pytest.param("multipart/form-data; boundary=xyz", b"garbage", id="garbage"),
]


def assert_json_error(response: Any, status: int | None = None) -> dict[str, Any]:
    """A JSON error (of `status`, or any 4xx); its body. Test client or `requests` response."""
    code = response.status_code
    assert 400 <= code < 500 if status is None else code == status, code
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error", "detail"}, body
    return body


def too_large_form() -> dict[str, str]:
    return inbound("x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), sid="SM" + "b" * 32)


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_body_over_the_limit_is_a_json_413_on_the_token_endpoint(debug: bool) -> None:
    with override_settings(DEBUG=debug):
        response = Client().post(
            TOKEN,
            urlencode({"username": "maya", "password": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}),
            content_type="application/x-www-form-urlencoded",
        )
    assert assert_json_error(response, 413)["error"] == "too_large"
    assert not Token.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_signed_webhook_over_the_limit_is_a_json_413_and_nothing_is_stored(debug: bool) -> None:
    form = too_large_form()
    with override_settings(DEBUG=debug, **WHATSAPP):
        response = Client().post(
            WEBHOOK,
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=sign(PUBLIC + WEBHOOK, form),
        )
    body = assert_json_error(response, 413)
    assert body["error"] == "too_large"
    assert AUTH_TOKEN.encode() not in response.content
    assert not Message.objects.exists()


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_method_a_plain_django_view_refuses_is_json() -> None:
    # The ESP webhooks are anymail's Django views: their 405 had an empty HTML body.
    response = Client().get("/api/v1/channels/email/webhooks/sendgrid/tracking/")
    assert assert_json_error(response, 405)["error"] == "method_not_allowed"


@pytest.fixture(scope="module")
def daphne(django_db_setup: None) -> Iterator[Daphne]:
    env = worker_env(ENABLE_WHATSAPP="True", TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC)
    server = Daphne(env, ARTIFACTS / "request-bodies-daphne.log")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("path", [TOKEN, WEBHOOK])
@pytest.mark.parametrize(("content_type", "body"), BROKEN_FORMS)
def test_a_broken_multipart_form_gets_a_json_4xx_from_daphne(
    daphne: Daphne, path: str, signed: bool, content_type: str, body: bytes
) -> None:
    headers = {"Content-Type": content_type}
    if signed:
        headers["X-Twilio-Signature"] = sign(PUBLIC + path, {})
    response = requests.post(daphne.url + path, data=body, headers=headers, timeout=10)
    assert_json_error(response)
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_over_the_limit_is_a_json_413_from_daphne(daphne: Daphne) -> None:
    form = too_large_form()
    response = requests.post(
        daphne.url + WEBHOOK,
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC + WEBHOOK, form)},
        timeout=30,
    )
    assert assert_json_error(response, 413)["error"] == "too_large"
    assert not Message.objects.exists()
