"""The chat pages: log in and out, the page's configuration, its security headers; the
system checks."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from channels_app.chat.checks import chat_check
from tests.channels_app.chat.helpers import enable_agents
from tests.conftest import TenantPeople
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def agents_enabled(people: TenantPeople) -> None:
    """Both tenants' plans include the paid-ads and SEO agents."""
    for tenant in (people.tenant, people.other_tenant):
        enable_agents(tenant, "paid_ads_optimization", "seo_optimization")


def test_the_page_needs_a_login(db: None) -> None:
    response = Client().get("/chat/")
    assert response.status_code == 302 and response["Location"].startswith("/chat/login/")


def test_log_in_open_the_page_and_log_out(people: TenantPeople) -> None:
    client = Client()
    page = client.get("/chat/login/")
    assert page.status_code == 200 and b"Log in" in page.content
    wrong = client.post("/chat/login/", {"username": "owner", "password": "nope"})
    assert wrong.status_code == 200 and b"form-error" in wrong.content
    response = client.post("/chat/login/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/chat/"

    page = client.get("/chat/")
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    config = page.context["config"]
    assert config["wsPath"] == "/ws/chat/" and config["maxChars"] == 4000
    assert {a["agent_type"] for a in config["agents"]} >= {"paid_ads_optimization"}
    assert b'<script type="module" src="/static/chat/js/main.js">' in page.content

    assert client.post("/chat/logout/").status_code == 302
    assert client.get("/chat/").status_code == 302


def test_the_configuration_is_embedded_as_inert_json(people: TenantPeople) -> None:
    hostile = UserFactory(tenant=people.tenant, username="x</script><script>alert(1)</script>")
    client = Client()
    client.force_login(hostile)
    content = client.get("/chat/").content.decode()
    assert "</script><script>alert(1)" not in content
    start = content.index('id="chat-config" type="application/json">') + 41
    config = json.loads(content[start : content.index("</script>", start)])
    assert config["username"] == hostile.username


def test_platform_operators_have_no_chat(db: None) -> None:
    operator = UserFactory(tenant=None, username="root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(operator)
    assert client.get("/chat/").status_code == 403


@override_settings(ENABLE_CHAT=False)
def test_switched_off_pages_are_not_found(people: TenantPeople) -> None:
    client = Client()
    client.force_login(people.owner)
    assert client.get("/chat/").status_code == 404
    assert client.get("/chat/login/").status_code == 404


def test_checks_warn_when_replies_could_never_reach_the_page() -> None:
    memory = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=memory, CHAT_POLL_SECONDS=0):
        assert [w.id for w in chat_check()] == ["channels_app.chat.W001"]
    with override_settings(CHANNEL_LAYERS=memory, CHAT_POLL_SECONDS=2):
        assert chat_check() == []
    with override_settings(ALLOWED_HOSTS=["*"]):
        assert [w.id for w in chat_check()] == ["channels_app.chat.W002"]
    with override_settings(ENABLE_CHAT=False, ALLOWED_HOSTS=["*"]):
        assert chat_check() == []
