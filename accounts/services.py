from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import SubscriptionTier, Tenant, User, UserPhoneNumber
from accounts.roles import ALL_ROLES
from privacy.fields import phone_index

# What every new tenant needs from the layers above (its agents, for one). They register here in
# their AppConfig.ready(), because accounts cannot import them.
TENANT_SETUP_HOOKS: list[Callable[[Tenant], object]] = []


def tenant_setup(*, tenant: Tenant) -> None:
    for hook in TENANT_SETUP_HOOKS:
        hook(tenant)


@transaction.atomic
def tenant_create(*, name: str, slug: str, tier: str = SubscriptionTier.FREE) -> Tenant:
    tenant = Tenant(name=name, slug=slug, tier=tier)
    tenant.full_clean()
    tenant.save()
    tenant_setup(tenant=tenant)
    return tenant


def user_set_roles(*, user: User, roles: Iterable[str]) -> None:
    roles = list(roles)
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        raise ValidationError({"roles": f"Unknown roles: {', '.join(unknown)}."})
    user.groups.set(Group.objects.filter(name__in=roles))


@transaction.atomic
def user_create(
    *,
    tenant: Tenant | None,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[str] = (),
    is_staff: bool = False,
    time_zone: str = "UTC",
) -> User:
    user = User(
        tenant=tenant,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        time_zone=time_zone,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    user_set_roles(user=user, roles=roles)
    return user


@transaction.atomic
def phone_number_add(
    *, user: User, number: str, verified: bool = False, primary: bool = False
) -> UserPhoneNumber:
    """Link a number to a user. Making it primary demotes the user's previous primary number."""
    phone = UserPhoneNumber(user=user, phone_number=number, verified=verified, primary=primary)
    if primary:
        UserPhoneNumber.objects.filter(user=user, primary=True).update(primary=False)
    phone.full_clean()
    phone.save()
    return phone


def phone_number_lookup(raw: str, **annotations: Any) -> UserPhoneNumber | None:
    """The mapping for a number in any common form, with its user and tenant, or None.
    `annotations` are read in the same query (a caller's other questions, one round trip)."""
    try:
        index = phone_index(raw)
    except ValidationError:
        return None
    return (
        UserPhoneNumber.objects.select_related("user__tenant")
        .filter(phone_hash=index, user__is_active=True, user__is_deleted=False)
        .annotate(**annotations)
        .first()
    )
