"""Sign-in lockout (django-axes; its AXES_* settings say who is locked and for how long): the
client's address, when a lock ends, and the answer a locked-out sign-in gets.

A login form (admin, chat) hits the lock inside `authenticate(request, ...)`; axes marks the
request and its middleware answers with `lockout_response`: a page under the form's look, or
JSON for the API, 429 with Retry-After. The API's token endpoint raises `LoginLocked` itself
(accounts/api.py): axes marks DRF's request there, which its middleware never sees.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import UTC, datetime
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from engarde.errors import API_PREFIX, error_body

CODE = "locked_out"


def client_ip(request: HttpRequest | Request) -> str | None:
    """The address the API's rate limits count (THROTTLE_NUM_PROXIES, X-Forwarded-For), so that
    one client has one address everywhere. Something that is no address, which only a client
    reaching the server past its proxy could send, counts as the connection's own."""
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    try:
        ipaddress.ip_address(ident)
    except ValueError:
        remote: str | None = request.META.get("REMOTE_ADDR")
        return remote
    return str(ident)


def is_locked_out(request: HttpRequest | Request) -> bool:
    """Whether the sign-in `authenticate(request, ...)` just refused was refused for the lock
    (or the failure that set it)."""
    return bool(getattr(request, "axes_locked_out", False))


def lock_ends_at(request: HttpRequest | Request) -> datetime:
    """When the lock on this request's username and address ends: the cool-off after the
    latest failure counted against them (an upper bound, to the second, when failures came
    from several browsers)."""
    credentials = getattr(request, "axes_credentials", None)
    attempts = AxesDatabaseHandler().filter_user_attempts(request, credentials)
    latest = [
        found
        for found in (qs.aggregate(latest=Max("attempt_time"))["latest"] for qs in attempts)
        if found is not None
    ]
    started: datetime = max(latest, default=timezone.now())
    return started + get_cool_off(request)


def retry_after(until: datetime) -> int:
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def lockout_detail(until: datetime) -> str:
    return (
        "Too many failed sign-ins for this username from this address. "
        f"Try again in {retry_after(until)} seconds, at {until.astimezone(UTC):%H:%M} UTC."
    )


class LoginLocked(exceptions.APIException):
    """429 with Retry-After (DRF sets it from `wait`), in the API's error shape."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = CODE

    def __init__(self, request: Request) -> None:
        until = lock_ends_at(request)
        self.wait = retry_after(until)
        super().__init__(lockout_detail(until), CODE)


def login_succeeded(request: Request, user: AbstractBaseUser) -> None:
    """What Django's `login()` tells axes through `user_logged_in` (the count of failures for
    this username and address starts again), for a sign-in that opens no session."""
    AxesProxyHandler.user_logged_in(sender=type(request), request=request, user=user)


def lockout_response(request: HttpRequest, *_axes_arguments: Any) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, called by axes' middleware for a locked-out sign-in.

    axes passes (request, response, credentials), or (request, credentials) when the stack
    runs async; both are ignored: the credentials it counted are on the request.
    """
    until = lock_ends_at(request)
    seconds = retry_after(until)
    response: HttpResponse
    if request.path.startswith(API_PREFIX) or "application/json" in request.headers.get(
        "Accept", ""
    ):
        response = JsonResponse(
            error_body(CODE, lockout_detail(until)), status=status.HTTP_429_TOO_MANY_REQUESTS
        )
    else:
        credentials = getattr(request, "axes_credentials", None)
        context: dict[str, Any] = {
            "username": get_client_username(request, credentials) or "",
            "until": until,
            "minutes": math.ceil(seconds / 60),
        }
        if request.path.startswith(reverse("chat:login")):
            template = "chat/locked_out.html"
            context["login_url"] = request.get_full_path()
        else:
            template = "admin/locked_out.html"
            context.update(admin.site.each_context(request), login_url=request.get_full_path())
        response = render(request, template, context, status=status.HTTP_429_TOO_MANY_REQUESTS)
    response["Retry-After"] = str(seconds)
    return response


def active_locks() -> Q:
    """The attempt rows that lock their username and address now (one browser's count; axes
    adds up the rows of several browsers for the same pair)."""
    return Q(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gt=timezone.now() - settings.AXES_COOLOFF_TIME,
    )


def attempt_lock_ends_at(attempt: AccessAttempt) -> datetime | None:
    if attempt.failures_since_start < settings.AXES_FAILURE_LIMIT:
        return None
    until: datetime = attempt.attempt_time + settings.AXES_COOLOFF_TIME
    return until if until > timezone.now() else None
