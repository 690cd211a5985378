"""The API schema's operations document every error they can answer (REST_FRAMEWORK's
DEFAULT_SCHEMA_CLASS).

A view declares its own answers with `extend_schema`; the errors that come from how the view is
set up rather than from what it does are added here, for every operation that does not name
them itself, in the API's one error shape (engarde.errors.ErrorSerializer):

- 400: it reads a request body or query parameters (a malformed body, an invalid value);
- 401: it authenticates (no credentials where they are needed, or a wrong token);
- 403: a permission beyond being signed in applies, or it writes and a session is checked for
  its CSRF token;
- 404: its path names an object, or its list is paged (a page past the end, a forged cursor);
- 413: it reads a body (one over DATA_UPLOAD_MAX_MEMORY_SIZE);
- 415: it reads a body (a Content-Type none of its parsers reads);
- 429: it is throttled (engarde.throttles), with Retry-After.

The fuzzing tests (tests/fuzz) check that every answer is documented.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from engarde.errors import ErrorSerializer

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# DRF's paginators answer 404 for a page past the end or a cursor they did not write.
PAGING = frozenset({"page", "cursor"})

DESCRIPTIONS = {
    400: "The request is malformed or a value is invalid: `fields` names each problem.",
    401: "Not signed in: no credentials, or a token that is not valid.",
    403: "Signed in, but this role may not do this (or a session's CSRF check failed).",
    404: "No such object in your workspace, or no such page.",
    413: "The body is larger than the server reads (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    415: "The body's Content-Type is not one this operation reads.",
    429: "Too many requests: wait the seconds the Retry-After header gives.",
}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses: dict[str, Any] = operation["responses"]
        for code in self._possible_errors(operation):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[code]), str(code)
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _possible_errors(self, operation: dict[str, Any]) -> set[int]:
        parameters = operation.get("parameters", [])
        query = [p for p in parameters if p["in"] == "query"]
        has_body = "requestBody" in operation
        authenticators = self.view.get_authenticators()
        permissions = self.view.get_permissions()
        errors: set[int] = set()
        if has_body or query:
            errors.add(400)
        if authenticators:
            errors.add(401)
        if any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions) or (
            self.method in WRITES
            and any(isinstance(a, SessionAuthentication) for a in authenticators)
        ):
            errors.add(403)
        if any(p["in"] == "path" for p in parameters) or any(p["name"] in PAGING for p in query):
            errors.add(404)
        if has_body:
            errors.update((413, 415))
        if self.view.get_throttles():
            errors.add(429)
        return errors
