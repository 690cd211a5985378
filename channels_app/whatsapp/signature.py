"""Twilio's request signature (`X-Twilio-Signature`) on the webhook and the status callback.

Twilio signs the URL it called plus every POST parameter, including ones this code does not
read, so all of the form goes into the check. Behind a proxy or a load balancer the URL Django
rebuilds (scheme, host, port) is not the one Twilio called: PUBLIC_BASE_URL says what that was.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_url(request: Request) -> str:
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


# The auth token never shows in an error report (a 500 e-mail, a debug page): Django's filter
# replaces this frame's `token` with stars.
@sensitive_variables("token")
def signature_valid(request: Request) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get(SIGNATURE_HEADER, "")
    # Without a token anyone could compute a "valid" signature over the empty key.
    if not token or not signature:
        return False
    return RequestValidator(token).validate(signed_url(request), request.POST, signature)


class TwilioSignature(BasePermission):
    """The only credential these endpoints take: Twilio sends neither a session nor a token."""

    message = "Invalid Twilio signature."
    code = "forbidden"

    def has_permission(self, request: Request, view: Any) -> bool:
        return signature_valid(request)
