"""Nothing secret in an error report about Twilio's endpoints: neither the auth token (a local
of the signature check) nor what Twilio posted (a phone number, a message). Django's reporter
builds the 500 e-mail and the debug page the same way; its report is read here."""

from __future__ import annotations

import pytest
from django.core.exceptions import DisallowedHost
from django.test import Client, RequestFactory, override_settings
from django.views.debug import ExceptionReporter
from rest_framework.request import Request

from channels_app.whatsapp.signature import signature_valid
from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/channels/whatsapp/webhook"
MESSAGE = "my private message"
PHONE = "+14155550101"


@override_settings(TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN, PUBLIC_BASE_URL="")
def test_the_auth_token_never_shows_in_an_error_report() -> None:
    # A Host not in ALLOWED_HOSTS fails inside the check, while `token` holds the auth token.
    http_request = RequestFactory().post(
        WEBHOOK, {"Body": MESSAGE}, HTTP_HOST="evil.example", HTTP_X_TWILIO_SIGNATURE="forged"
    )
    with pytest.raises(DisallowedHost) as raised:
        signature_valid(Request(http_request))
    reporter = ExceptionReporter(http_request, raised.type, raised.value, raised.tb)
    for report in (reporter.get_traceback_text(), reporter.get_traceback_html()):
        assert "signature_valid" in report  # the frame is there...
        assert TEST_AUTH_TOKEN not in report  # ...without the token's value


@override_settings(ENABLE_WHATSAPP=True, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN)
@pytest.mark.parametrize("path", [WEBHOOK, "/api/v1/channels/whatsapp/status"])
def test_what_twilio_posts_never_shows_in_an_error_report(path: str) -> None:
    response = Client().post(
        path,
        {"Body": MESSAGE, "From": f"whatsapp:{PHONE}", "MessageSid": "SM1"},
        HTTP_X_TWILIO_SIGNATURE="forged",
    )
    assert response.status_code == 403
    request = response.wsgi_request
    reporter = ExceptionReporter(request, RuntimeError, RuntimeError("boom"), None)
    for report in (reporter.get_traceback_text(), reporter.get_traceback_html()):
        assert "MessageSid" in report  # the parameters are listed...
        assert MESSAGE not in report and PHONE not in report  # ...without their values
