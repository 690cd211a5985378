"""The Content-Security-Policy middleware: settings.CONTENT_SECURITY_POLICY, plus 'unsafe-eval'
in script-src for the admin's pages only.

The admin theme (django-unfold) drives its pages with Alpine.js, whose directives (`x-data`,
`x-on`, ...) are expressions Alpine compiles with `new Function`: without 'unsafe-eval' the
sidebar, tabs, filters and dialogs stop working. No other page (chat, email pages, API docs)
uses Alpine, so none gets it.
"""

from __future__ import annotations

from csp.constants import UNSAFE_EVAL
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(reverse("admin:index")):
            # A new dict: a view's csp_update() dict is shared by all of its responses.
            update = dict(parts.update or {})
            update["script-src"] = [*update.get("script-src", ()), UNSAFE_EVAL]
            parts.update = update
        return parts
