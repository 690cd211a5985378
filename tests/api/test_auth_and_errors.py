from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import TenantPeople
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_token_then_me(people: TenantPeople) -> None:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=people.owner).key == token

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/users/me").json()
    assert me["id"] == people.owner.id
    assert me["username"] == "owner"
    assert me["tenant"]["slug"] == "acme"
    assert me["roles"] == ["super_admin"]


def test_session_auth_works_for_me(people: TenantPeople) -> None:
    client = APIClient()
    client.force_login(people.teammate)
    assert client.get("/api/v1/users/me").json()["roles"] == ["support_admin"]


def test_wrong_password_is_a_json_400_naming_the_problem(people: TenantPeople) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "owner", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert "credentials" in body["detail"].lower()


def test_missing_fields_are_listed(people: TenantPeople) -> None:
    body = APIClient().post("/api/v1/auth/token/", {}, format="json").json()
    assert set(body["fields"]) == {"username", "password"}


def test_malformed_json_is_a_json_400() -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"


def test_anonymous_me_is_a_json_401_with_a_challenge() -> None:
    response = APIClient().get("/api/v1/users/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"] == "not_authenticated"


def test_bad_token_is_rejected() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_erased_users_token_stops_working() -> None:
    user = UserFactory()
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/users/me").status_code == 401


def test_unknown_api_url_is_a_json_404() -> None:
    response = APIClient().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "not_found", "detail": "Nothing at /api/v1/no-such-thing."}


def test_wrong_method_is_a_json_405(people: TenantPeople) -> None:
    client = APIClient()
    client.force_login(people.owner)
    response = client.delete("/api/v1/users/me")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_csrf_failure_on_session_post_is_json(people: TenantPeople) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(people.owner)
    response = client.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD})
    # The token endpoint takes credentials, not the session: no CSRF needed, still JSON.
    assert response["Content-Type"].startswith("application/json")


def test_schema_generates_without_a_warning() -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())


def test_openapi_schema_and_docs() -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/token/" in paths and "/api/v1/users/me" in paths
    assert client.get("/api/docs/").status_code == 200
