"""Sign-in lockout (django-axes): wrong passwords lock one username from one address, on the
admin login, the chat login and the API's token endpoint; nobody else, and not forever."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import AsyncClient, Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import TenantPeople
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 3
COOLOFF = timedelta(minutes=10)
ADMIN_LOGIN = "/admin/login/?next=/admin/"
TOKEN = "/api/v1/auth/token/"
OTHER_ADDRESS = "192.0.2.7"


@pytest.fixture(autouse=True)
def small_limit() -> Iterator[None]:
    with override_settings(AXES_FAILURE_LIMIT=LIMIT, AXES_COOLOFF_TIME=COOLOFF):
        yield


def admin_login(client: Client, username: str, password: str) -> Any:
    return client.post(ADMIN_LOGIN, {"username": username, "password": password})


def token(client: APIClient, username: str, password: str) -> Any:
    return client.post(TOKEN, {"username": username, "password": password}, format="json")


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def assert_retry_after_is_the_cooloff(response: Any) -> int:
    seconds = int(response["Retry-After"])
    assert COOLOFF.total_seconds() - 5 <= seconds <= COOLOFF.total_seconds()
    return seconds


def test_wrong_passwords_lock_the_admin_login_for_that_username_from_that_address(
    people: TenantPeople,
) -> None:
    client = Client()
    for _ in range(LIMIT - 1):
        response = admin_login(client, "owner", "wrong")
        assert response.status_code == 200  # the form again, with its error
        assert "locked" not in response.content.decode()
    locked = admin_login(client, "owner", "wrong")
    assert locked.status_code == 429
    assert_retry_after_is_the_cooloff(locked)
    page = locked.content.decode()
    until = timezone.now() + COOLOFF
    assert 'id="locked-out"' in page
    assert "Too many failed sign-ins for “owner” from your address" in page
    assert "locked until <time datetime=" in page
    assert re.search(rf">{until:%H}:\d\d UTC</time>", page)
    assert "unfold/css/styles.css" in page  # the admin's look
    # While locked, the right password is refused too.
    refused = admin_login(client, "owner", PASSWORD)
    assert refused.status_code == 429
    assert not signed_in(client)
    # Neither the same username from another address nor another username from this one.
    elsewhere = Client(REMOTE_ADDR=OTHER_ADDRESS)
    assert admin_login(elsewhere, "owner", PASSWORD).status_code == 302
    assert signed_in(elsewhere)
    colleague = Client()
    assert admin_login(colleague, "teammate", PASSWORD).status_code == 302
    assert signed_in(colleague)


def test_wrong_passwords_lock_the_token_endpoint_with_a_json_429(people: TenantPeople) -> None:
    client = APIClient()
    for _ in range(LIMIT - 1):
        assert token(client, "owner", "wrong").status_code == 400
    locked = token(client, "owner", "wrong")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    seconds = assert_retry_after_is_the_cooloff(locked)
    body = locked.json()
    assert body["error"] == "locked_out"
    assert f"Try again in {seconds} seconds" in body["detail"]
    refused = token(client, "owner", PASSWORD)
    assert refused.status_code == 429
    assert "token" not in refused.json()
    assert token(APIClient(REMOTE_ADDR=OTHER_ADDRESS), "owner", PASSWORD).status_code == 200
    assert token(APIClient(), "teammate", PASSWORD).status_code == 200


def test_the_admin_login_and_the_api_share_one_count(people: TenantPeople) -> None:
    for _ in range(LIMIT - 1):
        admin_login(Client(), "owner", "wrong")
    assert token(APIClient(), "owner", "wrong").status_code == 429
    assert admin_login(Client(), "owner", PASSWORD).status_code == 429


def test_a_success_starts_the_count_again(people: TenantPeople) -> None:
    for _ in range(LIMIT - 1):
        admin_login(Client(), "owner", "wrong")
    assert admin_login(Client(), "owner", PASSWORD).status_code == 302
    assert admin_login(Client(), "owner", "wrong").status_code == 200  # one failure, not LIMIT

    for _ in range(LIMIT - 2):
        token(APIClient(), "teammate", "wrong")
    assert token(APIClient(), "teammate", PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(username="teammate").exists()
    assert token(APIClient(), "teammate", "wrong").status_code == 400


def test_the_lock_ends_with_the_cooloff_and_tries_while_locked_do_not_extend_it(
    people: TenantPeople,
) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(LIMIT):
            token(APIClient(), "owner", "wrong")
        clock.shift(COOLOFF - timedelta(minutes=1))
        still = token(APIClient(), "owner", "wrong")
        assert still.status_code == 429
        assert int(still["Retry-After"]) == 60
        clock.shift(timedelta(seconds=61))
        assert token(APIClient(), "owner", PASSWORD).status_code == 200


def test_the_chat_login_is_locked_too_with_its_own_page(people: TenantPeople) -> None:
    client = Client()
    for _ in range(LIMIT):
        response = client.post(reverse("chat:login"), {"username": "owner", "password": "x"})
    assert response.status_code == 429
    page = response.content.decode()
    assert 'id="locked-out"' in page and "chat/chat.css" in page


def test_behind_a_proxy_each_client_address_is_counted_apart(people: TenantPeople) -> None:
    framework = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with override_settings(REST_FRAMEWORK=framework):
        first = Client(HTTP_X_FORWARDED_FOR="198.51.100.1")
        for _ in range(LIMIT):
            response = admin_login(first, "owner", "wrong")
        assert response.status_code == 429
        assert AccessAttempt.objects.get().ip_address == "198.51.100.1"
        # The proxy's own address is the same, the client's is not.
        second = Client(HTTP_X_FORWARDED_FOR="198.51.100.2")
        assert admin_login(second, "owner", PASSWORD).status_code == 302
        # A forwarded "address" that is none counts as the connection's, without a 500.
        garbled = Client(HTTP_X_FORWARDED_FOR="not-an-address")
        assert admin_login(garbled, "owner", "wrong").status_code == 200
        assert AccessAttempt.objects.filter(ip_address="127.0.0.1").exists()


def test_superusers_see_the_lock_in_the_admin_and_tenant_staff_do_not(
    people: TenantPeople,
) -> None:
    for _ in range(LIMIT):
        token(APIClient(), "owner", "wrong")
    token(APIClient(), "teammate", "wrong")
    root = User.objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(root)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    rows = {a.username: a for a in page.context["cl"].result_list}
    assert set(rows) == {"owner", "teammate"}
    html = page.content.decode()
    until = rows["owner"].attempt_time + COOLOFF
    assert f"Locked out until {until:%H:%M} UTC" in html
    assert f"{LIMIT - 1} tries left" in html
    locked_only = client.get(changelist, {"locked": "yes"})
    assert [a.username for a in locked_only.context["cl"].result_list] == ["owner"]
    detail = client.get(reverse("admin:axes_accessattempt_change", args=[rows["owner"].pk]))
    assert detail.status_code == 200
    assert "Locked out until" in detail.content.decode()

    tenant_admin = Client()
    tenant_admin.force_login(people.owner)
    assert tenant_admin.get(changelist).status_code == 403


def test_a_superuser_lifts_a_lock_by_deleting_it(people: TenantPeople) -> None:
    for _ in range(LIMIT):
        token(APIClient(), "owner", "wrong")
    root = User.objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(root)
    attempt = AccessAttempt.objects.get(username="owner")
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert token(APIClient(), "owner", PASSWORD).status_code == 200


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_lock_answers_the_same_under_asgi(
    people: TenantPeople, close_worker_thread_connections: None
) -> None:
    """daphne runs the middleware async, where axes hands its callable other arguments."""
    client = AsyncClient()
    for _ in range(LIMIT):
        response = await client.post(ADMIN_LOGIN, {"username": "owner", "password": "wrong"})
    assert response.status_code == 429
    assert_retry_after_is_the_cooloff(response)
    assert 'id="locked-out"' in response.content.decode()
    response = await client.post(
        ADMIN_LOGIN,
        {"username": "owner", "password": "wrong"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 429
    assert response.json()["error"] == "locked_out"
