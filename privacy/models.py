from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.tenancy import TenantQuerySet


class ChannelConsent(models.Model):
    """Whether a person agreed to hear from the agents on a channel (WhatsApp's STOP/START)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_consents"
    )
    channel = models.CharField(max_length=16)
    opted_out = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)

    tenant_lookup = "user__tenant"

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="one_consent_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.channel}: {'opted out' if self.opted_out else 'opted in'}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"tenant_id": self.user.tenant_id}

    @classmethod
    def is_opted_out(cls, *, user_id: int, channel: str) -> bool:
        return cls.objects.filter(user_id=user_id, channel=channel, opted_out=True).exists()


auditlog.register(ChannelConsent)
