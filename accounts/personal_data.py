"""What accounts holds about a person, registered with privacy's registry (export, erasure)."""

from __future__ import annotations

import secrets
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone
from guardian.models import UserObjectPermission
from rest_framework.authtoken.models import Token

from accounts.models import User, UserPhoneNumber
from privacy.registry import erase_delete, export_values, personal_data_register

# The engines whose sessions live in django_session, where a person's can be found and deleted.
DATABASE_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


def profile_export(users: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": user.pk,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "tenant": user.tenant.name if user.tenant else None,
            "time_zone": user.time_zone,
            "roles": user.roles,
            "is_active": user.is_active,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        }
        for user in users.select_related("tenant").prefetch_related("groups")
    ]


def profile_erase(users: QuerySet[Any]) -> int:
    """The account stays, as an anonymous row that can never sign in again: conversations and
    approvals point at it and the analytics count them."""
    user_ids = list(users.values_list("pk", flat=True))
    for user_id in user_ids:
        User.objects.filter(pk=user_id).update(
            username=f"erased-{secrets.token_hex(8)}",
            first_name="",
            last_name="",
            email="",
            email_hash="",
            time_zone="UTC",
            password=make_password(None),
            is_active=False,
            is_staff=False,
            is_deleted=True,
            deleted_at=timezone.now(),
        )
    User.groups.through.objects.filter(user_id__in=user_ids).delete()
    User.user_permissions.through.objects.filter(user_id__in=user_ids).delete()
    UserObjectPermission.objects.filter(user_id__in=user_ids).delete()
    Token.objects.filter(user_id__in=user_ids).delete()
    sessions_end(user_ids=user_ids)
    return len(user_ids)


def sessions_end(*, user_ids: list[int]) -> None:
    """Sign the people out everywhere. Sessions in the database are found by decoding each
    unexpired one (their user is inside the signed data, not in a column). With any other
    engine the sessions die on their next request: the unusable password changes the session
    auth hash Django checks, and the account is inactive."""
    if settings.SESSION_ENGINE not in DATABASE_SESSION_ENGINES:
        return
    wanted = {str(user_id) for user_id in user_ids}
    store = import_module(settings.SESSION_ENGINE).SessionStore
    unexpired = Session.objects.filter(expire_date__gt=timezone.now())
    for session in unexpired.iterator(chunk_size=1000):
        if session.get_decoded().get("_auth_user_id") in wanted:
            store(session.session_key).delete()


personal_data_register(
    User, subject="pk", section="profile", export=profile_export, erase=profile_erase
)
personal_data_register(
    UserPhoneNumber,
    subject="user",
    section="phone_numbers",
    export=export_values("phone_number", "verified", "primary", "created_at"),
    # The webhook finds a sender by the number's blind index: once the row is gone, their
    # number is unknown to the agents.
    erase=erase_delete,
)
