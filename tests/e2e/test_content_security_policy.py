"""The pages under their Content-Security-Policy in Debian's Chromium: the admin (its login, the
dashboard with its charts and the tenant picker's nonce'd script, a conversation, the brief
preview in its frame, the lockout page), Swagger UI, Redoc, and the chat with its WebSocket.
Each page does its work and the browser refuses nothing (conftest's `page` also fails any test
whose pages report a violation)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from accounts.models import Tenant, User
from channels_app.models import Message
from tests.channels_app.chat.helpers import demo_tenant
from tests.e2e.conftest import csp_violations, screenshot
from tests.e2e.test_admin_console import log_in
from tests.e2e.test_chat import REPLY_TIMEOUT, ask
from tests.e2e.test_chat import log_in as chat_log_in
from tests.e2e.test_dashboard import charts_drawn
from tests.factories import (
    PASSWORD,
    ConversationFactory,
    MessageFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

ALPINE_RAN = "() => !!window.Alpine && !document.documentElement.hasAttribute('x-cloak')"


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("admin", password=PASSWORD)


def test_the_admin_works_under_its_policy(page: Any, live_server: Any, root: User) -> None:
    refused = csp_violations(page.context)
    acme, _globex = TenantFactory(slug="acme", name="Acme"), TenantFactory(slug="globex")
    maya = UserFactory(tenant=acme, username="maya")
    conversation = ConversationFactory(tenant=acme, user=maya)
    MessageFactory(conversation=conversation, body="How is my Meta campaign performing?")
    base = live_server.url

    log_in(page, base, "admin")
    page.wait_for_selector("#operations-dashboard")
    assert page.evaluate(ALPINE_RAN)
    drawn = charts_drawn(page)
    assert drawn and all(chart["drawn"] for chart in drawn.values()), drawn
    # The tenant picker's inline script runs by its nonce.
    page.select_option("#dashboard-tenant", "globex")
    page.wait_for_url("**/admin/?*tenant=globex*")

    page.goto(f"{base}/admin/channels_app/conversation/{conversation.pk}/change/")
    expect(page.locator("body")).to_contain_text("How is my Meta campaign performing?")
    assert page.evaluate(ALPINE_RAN)
    screenshot(page, "csp-admin-conversation")

    page.goto(f"{base}/admin/channels_app/emailpreferences/preview/{maya.pk}/")
    page.frame_locator("iframe").locator("text=Your daily brief").wait_for()
    assert refused == []


def test_the_lockout_page_works_under_its_policy(
    page: Any, live_server: Any, root: User, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    refused = csp_violations(page.context)
    base = live_server.url
    page.goto(f"{base}/admin/login/")
    for _ in range(2):
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
    expect(page.locator("#locked-out")).to_contain_text("is locked until")
    assert page.evaluate(ALPINE_RAN)
    screenshot(page, "csp-admin-locked-out")
    page.click("text=Back to sign in")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#locked-out")).to_be_visible()  # the right password too, while locked
    assert refused == []


def test_swagger_ui_renders_the_operations_under_its_policy(page: Any, live_server: Any) -> None:
    refused = csp_violations(page.context)
    page.goto(f"{live_server.url}/api/docs/")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/")
    screenshot(page, "csp-swagger-ui")
    assert refused == []


def test_redoc_renders_the_operations_offline_under_its_policy(page: Any, live_server: Any) -> None:
    refused = csp_violations(page.context)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    response = page.goto(f"{live_server.url}/api/redoc/")
    assert response.ok
    # Only this page may start Redoc's search worker, from a blob: URL.
    assert "worker-src blob:" in response.headers["content-security-policy"]
    expect(page.locator(".api-content")).to_contain_text("Take the conversation from the bot")
    # The search index lives in that worker.
    page.get_by_role("search").get_by_placeholder("Search...").fill("takeover")
    found = page.get_by_role("search").get_by_role("menuitem")
    expect(found.first).to_contain_text("Take the conversation from the bot")
    screenshot(page, "csp-redoc")

    local = {urlsplit(live_server.url).hostname, "127.0.0.1", "localhost"}
    outside = [url for url in asked if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
    outside = [url for url in outside if urlsplit(url).hostname not in local]
    assert outside == []
    assert refused == []
    assert (
        "worker-src"
        not in page.goto(f"{live_server.url}/api/docs/").headers["content-security-policy"]
    )


def test_the_chat_talks_over_its_socket_under_its_policy(page: Any, site: str) -> None:
    acme: Tenant = demo_tenant()
    UserFactory(tenant=acme, username="maya")
    refused = csp_violations(page.context)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))

    chat_log_in(page, site)  # "online": the socket is open
    assert sockets and sockets[0].startswith("ws://")
    page.click("#new-chat")
    page.click("#agent-options [data-agent-type=paid_ads_optimization]")
    ask(page, "How are my campaigns doing this week?")
    expect(page.locator(".message-user").last).to_contain_text("How are my campaigns doing")
    expect(page.locator(".message-agent").last).to_be_visible(timeout=REPLY_TIMEOUT)
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    screenshot(page, "csp-chat")
    assert refused == []
