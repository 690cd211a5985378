"""Request types for code that only a signed-in user reaches.

`request.user` is `User | AnonymousUser` in general. Views behind authentication (the admin
site's views, `login_required`, DRF views under `IsAuthenticated`) annotate their request with
these instead, so that the user is a `User` there without a check at every use. They are
annotations only: nothing ever constructs them.

A ModelAdmin method that overrides Django's keeps Django's `request: HttpRequest` parameter and
narrows it with `admin_request()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from accounts.models import User


class AuthedRequest(HttpRequest):
    """A Django request whose user is signed in."""

    user: User


class AuthedAPIRequest(Request):
    """A DRF request whose user is authenticated (the default `IsAuthenticated` permission)."""

    user: User


def admin_request(request: HttpRequest) -> AuthedRequest:
    """`request` as the admin site's views see it. No check is made: this only tells the type
    checker what `AdminSite.admin_view` has already enforced (an active staff user, so a User)
    before any ModelAdmin method runs."""
    return cast(AuthedRequest, request)
