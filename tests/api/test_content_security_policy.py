"""Every page carries a Content-Security-Policy (django-csp): the admin, the chat, the email brief
preview, the email pages and the API docs. Nothing from another host; scripts from our files or
with the response's nonce; 'unsafe-eval' only in the admin (Alpine.js)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import TenantPeople
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SOURCES_ALLOWED = {"'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "data:"}


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict(response: Any) -> dict[str, list[str]]:
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] in (["'self'"], ["'none'"])
    assert directives["form-action"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    for name, values in directives.items():
        for value in values:
            # No other host, no scheme wildcard (https:, ws:), and never inline script.
            assert value in SOURCES_ALLOWED or value.startswith("'nonce-"), (name, value)
    assert "'unsafe-inline'" not in directives["script-src"]
    return directives


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_login_and_pages(people: TenantPeople) -> None:
    login = Client().get(reverse("admin:login"))
    assert login.status_code == 200
    directives = assert_strict(login)
    # Alpine.js, which drives the admin theme, compiles its directives: the admin only.
    assert directives["script-src"] == ["'self'", "'unsafe-eval'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" in directives["style-src"]
    conversations = logged_in(people.owner).get(
        reverse("admin:channels_app_conversation_changelist")
    )
    assert conversations.status_code == 200
    assert "'unsafe-eval'" in assert_strict(conversations)["script-src"]


def test_the_dashboards_inline_script_runs_by_its_nonce(people: TenantPeople) -> None:
    root = User.objects.create_superuser("root", password="x" * 12)
    response = logged_in(root).get("/admin/")
    assert response.status_code == 200
    script_src = assert_strict(response)["script-src"]
    nonces = [v.removeprefix("'nonce-").removesuffix("'") for v in script_src if "nonce" in v]
    assert len(nonces) == 1
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "the tenant picker's script"
    for attributes in inline:
        if "application/json" in attributes:
            continue  # data, not a script
        assert f'nonce="{nonces[0]}"' in attributes
    assert "onchange=" not in html
    # A fresh nonce each response.
    again = policy(logged_in(root).get("/admin/"))["script-src"]
    assert f"'nonce-{nonces[0]}'" not in again


def test_the_chat_pages_are_stricter_still(people: TenantPeople) -> None:
    end_user = UserFactory(tenant=people.tenant, username="maya")
    page = logged_in(end_user).get("/chat/")
    assert page.status_code == 200
    directives = assert_strict(page)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    login = Client().get("/chat/login/")
    assert policy(login)["style-src"] == ["'self'"]


def test_the_email_preview_frames_only_its_own_brief(people: TenantPeople) -> None:
    reader = UserFactory(tenant=people.tenant, username="carmen")
    client = logged_in(people.owner)
    args = [reader.pk]
    page = client.get(reverse("admin:channels_app_emailpreferences_preview", args=args))
    assert page.status_code == 200
    assert assert_strict(page)["frame-ancestors"] == ["'none'"]
    assert policy(page)["frame-src"] == ["'self'"]
    brief = client.get(reverse("admin:channels_app_emailpreferences_preview_html", args=args))
    assert brief.status_code == 200
    assert assert_strict(brief)["frame-ancestors"] == ["'self'"]


def test_the_email_pages(people: TenantPeople) -> None:
    response = Client().get(reverse("email-unsubscribe-page"))
    assert response.status_code in (200, 400)
    assert assert_strict(response)["frame-ancestors"] == ["'none'"]


def test_the_api_docs_need_no_inline_script_nor_eval(db: None) -> None:
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    directives = assert_strict(page)
    assert directives["script-src"] == ["'self'"]
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attributes for attributes in scripts)
    # Swagger UI's settings script is served from the page's own URL.
    setup = Client().get("/api/docs/?script=")
    assert setup.status_code == 200
    assert setup["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in setup.content.decode()
    assert '"validatorUrl": null' in setup.content.decode()


def test_the_api_answers_carry_it_too(people: TenantPeople) -> None:
    response = Client().get("/api/v1/users/me")
    assert response.status_code == 401
    assert_strict(response)
