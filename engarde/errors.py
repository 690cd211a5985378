"""One JSON error shape for every 4xx/5xx the API gives: {"error": code, "detail": text, "fields"?}.

DRF's own errors go through `api_exception_handler`; Django's (unknown URL, CSRF failure,
uncaught exception) go through the handlers below, which answer JSON under /api/ and the
usual pages elsewhere. Django uses those handlers only with DEBUG off: with it on, it answers
with its technical pages (settings, stack, local variables), so `json_errors_middleware` replaces
any HTML or text error under /api/ (the API and the channels' webhooks) with the JSON one.
`ErrorSerializer` documents the shape in the schema, and `ServiceDisabled` is the 503 of an
integration switched off by its setting (ENABLE_CHAT, ...). A database that cannot be reached
(down, restarting, out of connections) is a 503 too, never a 500: the request was not at fault,
nothing of it was stored, and it may be sent again (Twilio does, for a webhook URL that asks for
retries on 5xx with its connection overrides).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.utils.decorators import sync_and_async_middleware
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()
    # The serializer metaclass takes declared fields off the class, so this field does not
    # shadow Serializer.fields at run time; the stubs cannot see that.
    fields = serializers.DictField(required=False)  # type: ignore[assignment]


class ServiceDisabled(exceptions.APIException):
    """An integration switched off on this server; `detail` names it and its setting."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This service is switched off on this server."
    default_code = "disabled"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; try again shortly."
    default_code = "unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self) -> None:
        super().__init__(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )


# Django raises these while it reads a body, before any serializer: a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields or files, a client gone mid-upload.
BODY_ERRORS: dict[type[Exception], tuple[str, str]] = {
    TooManyFieldsSent: ("The request has too many fields.", "too_many_fields"),
    TooManyFilesSent: ("The request has too many files.", "too_many_files"),
    UnreadablePostError: ("The request body could not be read.", "parse_error"),
}


API_PREFIX = "/api/"


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) or "application/json" in request.headers.get(
        "Accept", ""
    )


def error_body(code: str, detail: Any, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # DRF turns Django's own 404 and 403 into its exceptions inside exception_handler; convert
    # them first so that they get the same body as every other error.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        exc = DatabaseUnavailable()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif type(exc) in BODY_ERRORS:
        exc = exceptions.ParseError(*BODY_ERRORS[type(exc)])
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(exc.detail, dict):
            fields = exc.detail
            non_field = fields.get("non_field_errors")
            detail = (
                non_field[0]
                if isinstance(non_field, list) and non_field
                else "Some fields are invalid."
            )
        else:
            fields = None
            detail = exc.detail[0] if isinstance(exc.detail, list) and exc.detail else exc.detail
        response.data = error_body("invalid", detail, fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = detail.code if hasattr(detail, "code") else exc.default_code
        response.data = error_body(str(code), str(detail))
    return response


def _json_error(request: HttpRequest, status_code: int) -> JsonResponse:
    known = {
        400: ("bad_request", "The request could not be understood."),
        403: ("permission_denied", "You may not do this."),
        404: ("not_found", f"Nothing at {request.path}."),
        413: ("too_large", "The request body is too large."),
        500: ("server_error", "Something went wrong on our side."),
    }
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:  # a status of no standard (499, say)
        phrase = "Error"
    code, detail = known.get(status_code, (phrase.lower().replace(" ", "_"), f"{phrase}."))
    return JsonResponse(error_body(code, detail), status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        if isinstance(exception, RequestDataTooBig):
            return _json_error(request, 413)
        return _json_error(request, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return _json_error(request, 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return _json_error(request, 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return _json_error(request, 500)
    return defaults.server_error(request)


def _replaced(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if (
        request.path.startswith(API_PREFIX)
        and 400 <= response.status_code < 600
        and not response.streaming
        and response.get("Content-Type", "").split(";")[0] in ("text/html", "text/plain", "")
    ):
        return _json_error(request, response.status_code)
    return response


@sync_and_async_middleware
def json_errors_middleware(get_response: Any) -> Any:
    """No technical page under /api/, whatever DEBUG says.

    With DEBUG on, Django answers an unknown URL, a bad request (a disallowed host, say) or an
    uncaught exception with its debug page instead of calling the handlers above; under /api/
    (the API and the channels' webhooks) that page is replaced by the handlers' JSON, and so is
    any other error that is not JSON (a bare 405 or 413, an empty body). It comes
    first in MIDDLEWARE, so it also sees what the other middleware answered. Django has logged
    the exception (with its stack) before this runs; only the response changes. It runs in
    the server's own mode (no thread hop under daphne).
    """
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return _replaced(request, await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:  # type: ignore[misc]
            return _replaced(request, get_response(request))

    return middleware


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("csrf_failed", f"CSRF check failed: {reason}"), status=403)
    return django_csrf_failure(request, reason)
