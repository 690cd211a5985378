"""API rate limits: per user, per tenant by tier, per IP when anonymous; Twilio never throttled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from accounts.models import SubscriptionTier, User
from engarde.settings import base as base_settings
from tests.channels_app.fake_twilio import TEST_AUTH_TOKEN
from tests.conftest import TenantPeople
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"
TOKEN = "/api/v1/auth/token/"
PUBLIC = "https://console.example.com"
STATUS = "/api/v1/channels/whatsapp/status"
UNSUBSCRIBE = "/api/v1/channels/email/unsubscribe"

USER_LIMIT = 3
TENANT_BUDGET = 5
BUSINESS_BUDGET = 8
ANON_LIMIT = 2


@pytest.fixture(autouse=True)
def low_rates() -> Iterator[None]:
    rates = dict.fromkeys(SubscriptionTier.values, "1000/min")
    rates["professional"] = f"{TENANT_BUDGET}/min"  # the factories' tier
    rates["business"] = f"{BUSINESS_BUDGET}/min"
    cache.clear()
    with override_settings(
        THROTTLE_USER_RATE=f"{USER_LIMIT}/min",
        THROTTLE_TENANT_RATES=rates,
        THROTTLE_ANON_RATE=f"{ANON_LIMIT}/min",
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        PUBLIC_BASE_URL=PUBLIC,
        ENABLE_WHATSAPP=True,
    ):
        yield
    cache.clear()


def as_user(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def statuses(client: APIClient, times: int) -> list[int]:
    return [client.get(ME).status_code for _ in range(times)]


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["error"] == "throttled"
    assert f"{response['Retry-After']} seconds" in body["detail"]


def test_user_limit_answers_429_with_retry_after(people: TenantPeople) -> None:
    client = as_user(people.owner)
    assert statuses(client, USER_LIMIT) == [200] * USER_LIMIT
    assert_throttled(client.get(ME))


def test_tenant_budget_is_shared_by_its_users_but_not_their_limits(people: TenantPeople) -> None:
    owner = as_user(people.owner)
    assert statuses(owner, USER_LIMIT + 1) == [200] * USER_LIMIT + [429]
    # The owner's refused call was not charged to the tenant: the teammate has the rest of it.
    teammate = as_user(people.teammate)
    rest = TENANT_BUDGET - USER_LIMIT
    assert statuses(teammate, rest) == [200] * rest
    assert_throttled(teammate.get(ME))
    # A third user of the tenant, under their own limit, meets the spent budget too.
    third = StaffFactory(tenant=people.tenant, username="third")
    assert as_user(third).get(ME).status_code == 429


def test_another_tenant_is_unaffected(people: TenantPeople) -> None:
    owner, teammate = as_user(people.owner), as_user(people.teammate)
    statuses(owner, USER_LIMIT)
    statuses(teammate, TENANT_BUDGET - USER_LIMIT)
    assert teammate.get(ME).status_code == 429  # Acme's budget is spent
    assert statuses(as_user(people.outsider), USER_LIMIT) == [200] * USER_LIMIT


def test_the_budget_follows_the_tier(people: TenantPeople) -> None:
    people.tenant.tier = SubscriptionTier.BUSINESS
    people.tenant.save()
    users = [StaffFactory(tenant=people.tenant, username=f"member{n}") for n in range(3)]
    codes = [code for user in users for code in statuses(as_user(user), USER_LIMIT)]
    assert codes == [200] * BUSINESS_BUDGET + [429] * (3 * USER_LIMIT - BUSINESS_BUDGET)


def test_anonymous_calls_are_limited_by_ip_address(people: TenantPeople) -> None:
    client = APIClient()
    wrong = {"username": "owner", "password": "guess"}
    assert [client.post(TOKEN, wrong, format="json").status_code for _ in range(ANON_LIMIT)] == [
        400
    ] * ANON_LIMIT
    assert_throttled(client.post(TOKEN, wrong, format="json"))
    # An address the client writes itself is not believed (no proxy in front here).
    spoofed = client.post(TOKEN, wrong, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert spoofed.status_code == 429
    # Another address is counted apart.
    other = APIClient(REMOTE_ADDR="192.0.2.7")
    assert other.post(TOKEN, wrong, format="json").status_code == 400


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_a_proxy_the_address_it_saw_counts(db: None) -> None:
    wrong = {"username": "nobody", "password": "guess"}

    def post(forwarded_for: str) -> int:
        client = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)
        return client.post(TOKEN, wrong, format="json").status_code

    assert [post("198.51.100.1") for _ in range(ANON_LIMIT + 1)] == [400] * ANON_LIMIT + [429]
    # The client's own X-Forwarded-For entries come first; the proxy appends what it saw.
    assert post("203.0.113.9, 198.51.100.1") == 429
    assert post("198.51.100.2") == 400


def test_twilio_webhooks_are_never_throttled(db: None) -> None:
    def callback(signature: str | None = None) -> int:
        params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered"}
        if signature is None:
            signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC + STATUS, params)
        response = Client().post(
            STATUS,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )
        return response.status_code

    many = ANON_LIMIT * 3
    assert [callback() for _ in range(many)] == [204] * many
    assert [callback(signature="forged") for _ in range(many)] == [403] * many


def test_one_click_unsubscribe_is_never_throttled(db: None) -> None:
    many = ANON_LIMIT * 3
    codes = [Client().post(UNSUBSCRIBE, {"token": "nope"}).status_code for _ in range(many)]
    assert codes == [400] * many


def test_every_tier_has_a_budget() -> None:
    assert set(base_settings.THROTTLE_TENANT_RATES) == set(SubscriptionTier.values)
