from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any, ClassVar

from auditlog.registry import auditlog
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.tenancy import TenantQuerySet
from privacy.fields import (
    BlindIndexedModelMixin,
    BlindIndexField,
    EncryptedEmailField,
    EncryptedPhoneField,
)
from privacy.masking import mask_phone


@dataclass(frozen=True)
class TierLimits:
    walker_agents: int | None  # None: unlimited
    whatsapp_messages_per_day: int | None


class SubscriptionTier(models.TextChoices):
    FREE = "free", "Free"
    STARTER = "starter", "Starter"
    PROFESSIONAL = "professional", "Professional"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


TIER_LIMITS: dict[str, TierLimits] = {
    SubscriptionTier.FREE: TierLimits(walker_agents=1, whatsapp_messages_per_day=100),
    SubscriptionTier.STARTER: TierLimits(walker_agents=2, whatsapp_messages_per_day=1_000),
    SubscriptionTier.PROFESSIONAL: TierLimits(walker_agents=3, whatsapp_messages_per_day=10_000),
    SubscriptionTier.BUSINESS: TierLimits(walker_agents=4, whatsapp_messages_per_day=50_000),
    SubscriptionTier.ENTERPRISE: TierLimits(walker_agents=None, whatsapp_messages_per_day=None),
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "“%(value)s” is not an IANA time zone (for example Europe/London).",
            code="invalid_time_zone",
            params={"value": value},
        )


class Tenant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    tier = models.CharField(
        max_length=16, choices=SubscriptionTier.choices, default=SubscriptionTier.FREE
    )
    is_active = models.BooleanField(default=True)
    # Where the tenant's days begin and end: the analytics cut their daily rollups here.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_lookup = "pk"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def limits(self) -> TierLimits:
        return TIER_LIMITS[self.tier]

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.pk}


class UserManager(DjangoUserManager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    pass


class User(BlindIndexedModelMixin, AbstractUser):
    """A person of one tenant: staff who use the console, or an end user of the agents.

    Only platform superusers (En Garde's own operators) may have no tenant.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    email = EncryptedEmailField("email address", blank=True)
    email_hash = BlindIndexField(source="email", purpose="email", db_index=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        permissions = [
            ("view_all_conversations", "Can view every conversation of the tenant"),
            ("view_pii", "Can see unmasked personal data"),
            ("export_data", "Can export personal data"),
            ("modify_settings", "Can change tenant settings"),
            ("run_agents", "Can run agents on the tenant's behalf"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tenant__isnull=False) | Q(is_superuser=True),
                name="user_has_tenant_unless_superuser",
                violation_error_message="Every user except a platform superuser needs a tenant.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def roles(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())

    @property
    def member_tenant(self) -> Tenant:
        """The tenant of a user who must have one: every user but a platform superuser."""
        if self.tenant is None:
            raise ValueError(f"User {self.pk} belongs to no tenant.")
        return self.tenant

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id}


class UserPhoneNumber(BlindIndexedModelMixin, models.Model):
    """A number through which a user reaches the agents (WhatsApp). One owner system-wide."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_numbers")
    phone_number = EncryptedPhoneField()
    phone_hash = BlindIndexField(source="phone_number", purpose="phone")
    verified = models.BooleanField(default=False)
    primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_lookup = "user__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "phone number"
        constraints = [
            models.UniqueConstraint(
                fields=["phone_hash"],
                name="phone_number_unique_system_wide",
                violation_error_message="This number is already linked to an account.",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(primary=True),
                name="one_primary_phone_per_user",
                violation_error_message="This user already has a primary number.",
            ),
        ]

    def __str__(self) -> str:
        return mask_phone(self.phone_number)

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.user.tenant_id}


auditlog.register(Tenant)
auditlog.register(
    User, mask_fields=["email"], exclude_fields=["password", "last_login", "email_hash"]
)
auditlog.register(UserPhoneNumber, mask_fields=["phone_number"], exclude_fields=["phone_hash"])
