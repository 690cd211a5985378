"""Demo tenants and people: the "demo data" contract of DESIGN.md.

Everything goes through the services, so the demo passes the same validation as real sign-ups.
Seeding is idempotent, and a second run also repairs what the contract promises (tenant, roles,
password, phone number) if someone changed it in the console: a demo must always log in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import models, transaction

from accounts import roles
from accounts.models import SubscriptionTier, Tenant, User, UserPhoneNumber
from accounts.services import phone_number_add, tenant_create, user_create, user_set_roles
from privacy.fields import phone_index

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    tier: str


@dataclass(frozen=True)
class DemoPerson:
    tenant: str
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    time_zone: str
    phone: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role != roles.MEMBER


TENANTS = (
    # acme runs all four Walker agents; globex's plan allows two, which shows the tier limit.
    DemoTenant(slug="acme", name="Acme Corp", tier=SubscriptionTier.BUSINESS),
    DemoTenant(slug="globex", name="Globex", tier=SubscriptionTier.STARTER),
)

PEOPLE = (
    DemoPerson(
        "acme", "admin", "Alex", "Rivera", "alex.rivera@acme.example",
        roles.SUPER_ADMIN, "America/Chicago",
    ),
    DemoPerson(
        "acme", "support", "Sam", "Okafor", "sam.okafor@acme.example",
        roles.SUPPORT_ADMIN, "Europe/Dublin",
    ),
    DemoPerson(
        "acme", "compliance", "Priya", "Nair", "priya.nair@acme.example",
        roles.COMPLIANCE_OFFICER, "America/New_York",
    ),
    DemoPerson(
        "acme", "readonly", "Jordan", "Lee", "jordan.lee@acme.example",
        roles.READ_ONLY_ADMIN, "America/Denver",
    ),
    DemoPerson(
        "acme", "manager", "Carmen", "Ruiz", "carmen.ruiz@acme.example",
        roles.MARKETING_MANAGER, "America/Los_Angeles",
    ),
    DemoPerson(
        "acme", "director", "Daniel", "Kim", "daniel.kim@acme.example",
        roles.DIRECTOR_MARKETING, "America/Chicago",
    ),
    DemoPerson(
        "acme", "cfo", "Grace", "Thompson", "grace.thompson@acme.example",
        roles.CFO, "America/New_York",
    ),
    DemoPerson(
        "acme", "maya", "Maya", "Chen", "maya@acme.example",
        roles.MEMBER, "America/Los_Angeles", "+14155550101",
    ),
    DemoPerson(
        "acme", "leo", "Leo", "Martins", "leo@acme.example",
        roles.MEMBER, "America/Denver", "+14155550102",
    ),
    DemoPerson(
        "globex", "globex_admin", "Oliver", "Hughes", "oliver.hughes@globex.example",
        roles.SUPER_ADMIN, "Europe/London",
    ),
    DemoPerson(
        "globex", "ana", "Ana", "Sousa", "ana@globex.example",
        roles.MEMBER, "Europe/London", "+442079460958",
    ),
)  # fmt: skip


def demo_password() -> str:
    return settings.DEMO_PASSWORD


@dataclass
class PeopleSeedResult:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    repaired: list[str] = field(default_factory=list)

    @property
    def end_users(self) -> list[User]:
        return [self.users[p.username] for p in PEOPLE if not p.is_staff]


def _assign(obj: models.Model, **values: Any) -> list[str]:
    """Set the attributes that differ; the names of those that changed, for update_fields."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def demo_tenants_seed(*, result: PeopleSeedResult) -> None:
    existing = {t.slug: t for t in Tenant.objects.filter(slug__in=[t.slug for t in TENANTS])}
    for spec in TENANTS:
        tenant = existing.get(spec.slug)
        if tenant is None:
            tenant = tenant_create(name=spec.name, slug=spec.slug, tier=spec.tier)
            result.created["tenants"] += 1
        else:
            changed = _assign(tenant, name=spec.name, tier=spec.tier, is_active=True)
            if changed:
                tenant.save(update_fields=changed)
                result.repaired.append(f"tenant {spec.slug}: {', '.join(changed)}")
        result.tenants[spec.slug] = tenant


def _passwords_match(users: list[User], password: str) -> list[bool]:
    # PBKDF2 releases the GIL, so checking a dozen hashes side by side keeps a re-run fast. The
    # plain hasher function is used, not User.check_password: its rehash-on-upgrade would write
    # from a worker thread.
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda user: check_password(password, user.password), users))


def demo_users_seed(*, result: PeopleSeedResult, password: str) -> None:
    existing = {
        user.username: user
        for user in User.objects.prefetch_related("groups").filter(
            username__in=[p.username for p in PEOPLE]
        )
    }
    to_check: list[User] = []
    for spec in PEOPLE:
        tenant = result.tenants[spec.tenant]
        user = existing.get(spec.username)
        if user is None:
            user = user_create(
                tenant=tenant,
                username=spec.username,
                password=password,
                email=spec.email,
                first_name=spec.first_name,
                last_name=spec.last_name,
                roles=[spec.role],
                is_staff=spec.is_staff,
                time_zone=spec.time_zone,
            )
            result.created["users"] += 1
        else:
            # Staff are their tenant's admins, never platform superusers: a superuser would see
            # every tenant and the demo would hide the scoping it is meant to show.
            changed = _assign(
                user,
                tenant_id=tenant.pk,
                is_staff=spec.is_staff,
                is_superuser=False,
                is_active=True,
                is_deleted=False,
                deleted_at=None,
            )
            if changed:
                user.save(update_fields=changed)
                result.repaired.append(f"user {spec.username}: {', '.join(changed)}")
            if user.roles != [spec.role]:
                user_set_roles(user=user, roles=[spec.role])
                result.repaired.append(f"user {spec.username}: roles")
            to_check.append(user)
        result.users[spec.username] = user

    for user, matches in zip(to_check, _passwords_match(to_check, password), strict=True):
        if not matches:
            user.set_password(password)
            user.save(update_fields=["password"])
            result.repaired.append(f"user {user.username}: password")


def demo_phones_seed(*, result: PeopleSeedResult) -> None:
    for spec in PEOPLE:
        if not spec.phone:
            continue
        user = result.users[spec.username]
        phone = UserPhoneNumber.objects.filter(phone_hash=phone_index(spec.phone)).first()
        if phone is None:
            phone_number_add(user=user, number=spec.phone, verified=True, primary=True)
            result.created["phone numbers"] += 1
            continue
        changed = _assign(phone, user_id=user.pk, verified=True, primary=True)
        if changed:
            # The number is the demo user's by contract, even if it was moved to someone else.
            UserPhoneNumber.objects.filter(user=user, primary=True).exclude(pk=phone.pk).update(
                primary=False
            )
            phone.save(update_fields=changed)
            result.repaired.append(f"phone of {spec.username}: {', '.join(changed)}")


@transaction.atomic
def demo_people_seed(*, password: str, progress: Progress) -> PeopleSeedResult:
    result = PeopleSeedResult()
    demo_tenants_seed(result=result)
    progress(f"Tenants ... ok ({', '.join(result.tenants)}; {result.created['tenants']} created)")
    demo_users_seed(result=result, password=password)
    demo_phones_seed(result=result)
    for line in result.repaired:
        progress(f"  repaired {line}")
    progress(
        f"People ... ok ({len(result.users)} users, {result.created['users']} created; "
        f"{result.created['phone numbers']} phone numbers created)"
    )
    return result
