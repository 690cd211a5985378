"""The chat pages: the messenger itself, and log in / log out for the people who use it.

The page is a Django template plus ES modules under static/chat/; it draws only HTML the server
sanitised (render.py) and text. A strict Content-Security-Policy (no inline script, no other
origin) is the second line: even markup that slipped through could not run.
"""

from __future__ import annotations

from typing import Any, TypeVar

from csp.constants import NONE, SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator

from channels_app.chat.selectors import enabled_agents

# The site's policy (settings.CONTENT_SECURITY_POLICY), stricter still: no inline style either
# (render.py turns the styles it keeps into classes) and no <base> at all.
_strict_policy = csp_replace({"style-src": [SELF], "base-uri": [NONE]})

_Response = TypeVar("_Response", bound=HttpResponseBase)


def _secured(response: _Response) -> _Response:
    response["Referrer-Policy"] = "same-origin"
    return response


def _require_enabled() -> None:
    if not settings.ENABLE_CHAT:
        raise Http404("The web chat is switched off.")


@login_required(login_url=reverse_lazy("chat:login"))
@_strict_policy
def chat_page(request: HttpRequest) -> HttpResponse:
    _require_enabled()
    user: Any = request.user
    if user.tenant_id is None:
        # Platform operators belong to no workspace and have no agents to talk to.
        return _secured(render(request, "chat/no_workspace.html", status=403))
    config = {
        "wsPath": "/ws/chat/",
        "apiBase": "/api/v1/channels/chat/",
        "maxChars": settings.CHAT_MAX_MESSAGE_CHARS,
        "username": user.username,
        "agents": enabled_agents(user),
        "logoutUrl": reverse("chat:logout"),
    }
    return _secured(render(request, "chat/chat.html", {"config": config}))


class ChatLoginView(auth_views.LoginView):
    template_name = "chat/login.html"
    redirect_authenticated_user = True

    @method_decorator(_strict_policy)
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _require_enabled()
        return _secured(super().dispatch(request, *args, **kwargs))

    def get_default_redirect_url(self) -> str:
        return reverse("chat:page")


class ChatLogoutView(auth_views.LogoutView):
    next_page = "chat:login"  # a URL name: resolve_url() reverses it
