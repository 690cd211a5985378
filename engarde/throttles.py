"""The API's rate limits: per user, per tenant (a budget by subscription tier) and per IP address
for anonymous calls. They are REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES, so every API view has
them unless it sets `throttle_classes` itself.

The counters live in the default cache (Redis when REDIS_URL is set), so every web process
shares them: one atomic counter per key and fixed window (a burst at a window's edge may reach
twice the rate for a moment, the usual trade for counting in one INCR). The rates are Django
settings (THROTTLE_USER_RATE, THROTTLE_TENANT_RATES, THROTTLE_ANON_RATE), read on each
request rather than once at import as DRF's own throttles do.
A refused call answers 429 with `Retry-After` and the API's error shape
(`{"error": "throttled", "detail": "... Expected available in N seconds."}`, engarde.errors).

The views run the throttles in order and DRF asks each of them even after one refuses: a call
the user's limit refused is not charged to the tenant's budget, so one person hammering the API
past their own limit does not use up their colleagues' share.

Exempt (`throttle_classes = []`): Twilio's webhooks and the one-click unsubscribe, which come
from a few shared servers and are checked by signature or signed token instead. The ESPs'
tracking webhooks are anymail's Django views, outside DRF, so no throttle sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES)
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Set on the request by a throttle that refused it, for the throttles after it.
_REFUSED = "_engarde_throttle_refused"


class _SettingsRateThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle whose rate is the Django setting `rate_setting`, read per request."""

    rate_setting = ""
    # Set by SimpleRateThrottle.__init__ from the rate (the stubs do not declare them).
    num_requests: int | None
    duration: int | None
    now: float
    reset_at: float = 0.0

    def get_rate(self) -> str | None:
        rate: str | None = getattr(settings, self.rate_setting)
        return rate

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self._counted(request, view):
            return True
        setattr(request, _REFUSED, True)
        return False

    def _counted(self, request: Request, view: APIView) -> bool:
        """One atomic counter per key and fixed window (Redis INCR), instead of DRF's list of
        timestamps read and written whole on every call: a tenant's 6,000 a minute would move
        about 50 KB each time, and two servers at once could both pass the last slot."""
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        key = f"{self.key}:{window}"
        self.cache.add(key, 0, self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window's key expired between add and incr
            self.cache.set(key, 1, self.duration + 1)
            count = 1
        self.reset_at = float((window + 1) * self.duration)
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(0.0, self.reset_at - self.now)


class UserRateThrottle(_SettingsRateThrottle):
    """THROTTLE_USER_RATE calls per signed-in user, whatever their tenant."""

    scope = "user"
    rate_setting = "THROTTLE_USER_RATE"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(_SettingsRateThrottle):
    """THROTTLE_ANON_RATE calls per client IP address from callers who are not signed in."""

    scope = "anon"
    rate_setting = "THROTTLE_ANON_RATE"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TenantRateThrottle(_SettingsRateThrottle):
    """The tenant's budget across all its users: THROTTLE_TENANT_RATES[tenant.tier].

    Users without a tenant (platform operators) have only their own limit. A tier missing from
    the setting gets the free tier's budget.
    """

    scope = "tenant"
    rate_setting = "THROTTLE_TENANT_RATES"

    def __init__(self) -> None:
        # The rate depends on the tenant's tier, so it is chosen in allow_request.
        self.rate: str | None = None
        self.num_requests = None
        self.duration = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        if getattr(request, _REFUSED, False):
            return True  # already refused: not charged to the tenant
        user: Any = request.user
        tenant = getattr(user, "tenant", None) if user and user.is_authenticated else None
        if tenant is None:
            return True
        rates: dict[str, str | None] = getattr(settings, self.rate_setting)
        self.rate = rates.get(tenant.tier, rates.get("free"))
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return self._counted(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        tenant_id = getattr(request.user, "tenant_id", None)
        if tenant_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": tenant_id}


# Every throttle, in the order they run, for views that set throttle_classes themselves.
API_THROTTLES: list[type[SimpleRateThrottle]] = [
    AnonRateThrottle,
    UserRateThrottle,
    TenantRateThrottle,
]
