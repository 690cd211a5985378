"""The chat page in Debian's Chromium, against two real processes: daphne (HTTP and the
WebSocket) and a Celery worker (the turns), on the suite's PostgreSQL and Redis.

Screenshots land in test-artifacts/ (chat-*.png), at desktop and phone widths."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import expect

from accounts.models import Tenant, User
from accounts.roles import CFO, MARKETING_MANAGER, SUPER_ADMIN, SUPPORT_ADMIN
from agents.models import AgentRun, Campaign, KeywordRanking
from channels_app.models import Conversation, Message
from channels_app.outbound import message_deliver
from hitl.models import Approval
from tests.channels_app.chat.helpers import RECOMMENDATION_QUESTION, demo_tenant, quiet_campaign
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

REPLY_TIMEOUT = 45_000  # the worker's first turn also trains the router
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def acme(transactional_db: None) -> Tenant:
    return demo_tenant()


@pytest.fixture
def maya(acme: Tenant) -> User:
    return UserFactory(tenant=acme, username="maya")


def deliver(message_id: int) -> None:
    try:
        message_deliver(message=Message.objects.get(pk=message_id))
    finally:
        connection.close()


def log_in(page: Any, base: str, username: str = "maya") -> None:
    page.goto(f"{base}/chat/")
    page.wait_for_url("**/chat/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/chat/")
    expect(page.locator("#agent-status")).to_have_text("online")


def watch_frames(page: Any) -> list[dict[str, Any]]:
    """Every frame the page's chat socket receives, in order."""
    frames: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def ask(page: Any, text: str) -> None:
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")


def test_chat_with_the_agents(page: Any, browser: Any, site: str, maya: User, acme: Tenant) -> None:
    frames = watch_frames(page)
    log_in(page, site)
    screenshot(page, "chat-empty-desktop")

    # A new chat with the paid-ads agent.
    page.click("#new-chat")
    page.click("#agent-options [data-agent-type=paid_ads_optimization]")
    expect(page.locator("#agent-name")).to_have_text("Paid Ads Marketing Agent")
    conversation = Conversation.objects.get(user=maya)

    # Ask about ROAS: the typing indicator, then the answer from the tenant's data.
    campaign, roas = quiet_campaign(acme)
    question = f"ROAS of {campaign.name}, last 7 days?"
    page.evaluate(
        """() => {
            const typing = document.getElementById("typing");
            new MutationObserver(() => {
                if (!typing.classList.contains("hidden")) window.__typingSeen = true;
            }).observe(typing, { attributes: true });
        }"""
    )
    ask(page, question)
    expect(page.locator(".message-user").last).to_contain_text(question)
    expect(page.locator(".message-agent").last).to_contain_text(
        f"ROAS {roas}", timeout=REPLY_TIMEOUT
    )
    answer = page.locator(
        f'.message[data-id="{page.locator(".message-agent").last.get_attribute("data-id")}"]'
    )
    assert page.evaluate("() => window.__typingSeen === true")
    events = [f["event"] for f in frames]
    assert events.index("agent_typing") < events.index("agent_response"), events
    # The question is marked delivered (answered), with a timestamp.
    expect(page.locator(".message-user").last.locator(".status-delivered")).to_be_visible()
    expect(answer.locator(".bubble-time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    assert answer.locator(".bubble-author").inner_text() == "Paid Ads Marketing Agent"
    screenshot(page, "chat-answer-desktop")

    # A question whose answer suggests actions: the answer arrives at once and says so, with
    # the suggestions as cards awaiting a person. Nothing runs on its own, not even the low-risk
    # pause.
    ask(page, RECOMMENDATION_QUESTION)
    suggested = page.locator(".message-agent", has_text="Suggestion").last
    expect(suggested).to_contain_text(
        "Nothing changes unless it is approved", timeout=REPLY_TIMEOUT
    )
    card = page.locator(".action-card:not(.action-card-review)", has_text="Raise").first
    expect(card).to_contain_text("Proposed action")
    expect(card).to_contain_text("Awaiting approval")
    expect(card.locator(".card-title")).to_contain_text("Raise")
    paused = page.locator(".action-card:not(.action-card-review)", has_text="Pause").first
    expect(paused).to_contain_text("Awaiting approval")
    assert not Message.objects.filter(conversation=conversation, delivery_status="held").exists()
    screenshot(page, "chat-action-card-desktop")

    # Switch to the SEO agent mid-conversation and ask it something.
    page.select_option("#agent-switch", "seo_optimization")
    expect(page.locator(".notice").last).to_have_text("You're now talking to the SEO Agent.")
    expect(page.locator("#agent-name")).to_have_text("SEO Agent")
    end = KeywordRanking.objects.filter(tenant=acme).latest("date").date
    row = KeywordRanking.objects.filter(tenant=acme, date=end).order_by("-search_volume")[0]
    ask(page, f"Where do we rank for {row.keyword}?")
    seo = page.locator(".message-agent").last
    expect(seo).to_contain_text(f"position {row.position}", timeout=REPLY_TIMEOUT)
    assert seo.locator(".bubble-author").inner_text() == "SEO Agent"

    # Bookmark the ROAS answer.
    answer.hover()
    answer.locator(".bookmark").click()
    expect(answer.locator(".bookmark")).to_have_attribute("aria-pressed", "true")

    # A second chat, so the search has somewhere else to look.
    page.click("#new-chat")
    page.click("#agent-options [data-agent-type=seo_optimization]")
    expect(page.locator(".conversation-item")).to_have_count(2)

    # Search the history: the ROAS answer is found and opened, highlighted.
    page.fill("#search", campaign.name)
    hit = page.locator("#search-results .hit").first
    expect(hit).to_contain_text(conversation.messages.first().body[:20])
    screenshot(page, "chat-search-desktop")
    hit.click()
    expect(page.locator("#conversation-title")).to_have_text(question[:60])
    expect(page.locator(".message.highlight")).to_have_count(1)
    page.click("#tab-bookmarks")
    expect(page.locator("#bookmark-list .hit")).to_have_count(1)
    expect(page.locator("#bookmark-list .hit")).to_contain_text(f"ROAS {roas}")
    page.click("#tab-chats")

    # Export the transcript, in Markdown and JSON.
    with page.expect_download() as download:
        page.click("#export-md")
    markdown = Path(download.value.path()).read_text()
    assert markdown.startswith(f"# {question}") and f"ROAS {roas}" in markdown
    assert download.value.suggested_filename == f"engarde-chat-{conversation.pk}.md"
    with page.expect_download() as download:
        page.click("#export-json")
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["messages"][0]["content"] == question

    # On a phone: the list, then the conversation.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    small.goto(f"{site}/chat/")
    expect(small.locator("#id_username")).to_be_visible()
    screenshot(small, "chat-login-phone")
    phone.add_cookies(page.context.cookies())
    small.goto(f"{site}/chat/")
    expect(small.locator(".conversation-item")).to_have_count(2)
    screenshot(small, "chat-list-phone")
    small.locator(".conversation-item", has_text=question[:30]).click()
    expect(small.locator(".message-agent").first).to_be_visible()
    expect(small.locator("#composer-input")).to_be_visible()
    small.evaluate("() => document.getElementById('messages').scrollTo(0, 0)")
    small.screenshot(path=str(ARTIFACTS / "chat-conversation-phone.png"))
    small.click("#back")
    expect(small.locator("#conversation-list")).to_be_visible()
    phone.close()

    # Delete the conversation: gone from the list, kept in the database.
    page.click("#delete-conversation")
    page.click("#confirm-delete")
    expect(page.locator(".conversation-item")).to_have_count(1)
    expect(page.locator("#toast")).to_have_text("Chat deleted.")
    conversation.refresh_from_db()
    assert conversation.is_deleted

    # Log out.
    page.click("#logout")
    page.wait_for_url("**/chat/login/")


HOSTILE = [
    '<img src=x onerror="window.__pwned = 1">',
    "<script>window.__pwned = 1</script>",
    "[click me](javascript:window.__pwned=1)",
    '<a href="javascript:window.__pwned=1">link</a>',
    "```html\n<img src=x onerror=window.__pwned=1>\n```",
    "<svg onload=window.__pwned=1></svg>",
    "| Campaign | ROAS |\n|:--|--:|\n| Spring | 3.10x |",
]


def test_hostile_messages_do_not_run_in_the_chat_or_the_admin(
    page: Any, site: str, maya: User, acme: Tenant
) -> None:
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, site)
    page.click("#new-chat")
    page.click("#agent-options [data-agent-type=content_generation]")
    expect(page.locator("#agent-name")).to_have_text("Content Generation Agent")
    conversation = Conversation.objects.get(user=maya)
    for payload in HOSTILE:
        ask(page, payload)
    expect(page.locator(".message-user .status-mark:not(.status-sending)")).to_have_count(
        len(HOSTILE)
    )
    # The agent's side: a reply carrying the same payloads, delivered through the transport.
    reply = Message.objects.create(
        conversation=conversation,
        channel="chat",
        direction="outbound",
        sender_kind="agent",
        agent_type="content_generation",
        body="Here you go:\n\n" + "\n\n".join(HOSTILE),
        delivery_status="queued",
    )
    # From another thread, as a worker would: Playwright's event loop runs in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(deliver, reply.pk).result()
    expect(page.locator(f'.message[data-id="{reply.pk}"]')).to_contain_text("Here you go")

    # Reload: the same payloads drawn from the history.
    page.reload()
    page.locator(".conversation-item").first.click()
    expect(page.locator(f'.message[data-id="{reply.pk}"]')).to_be_visible()
    page.locator(".markdown a").evaluate_all("links => links.forEach(a => a.click())")
    assert page.evaluate("() => window.__pwned") is None
    text = page.locator("#messages").inner_text()
    assert "<script>window.__pwned = 1</script>" in text  # shown, as text
    assert page.locator("#messages img, #messages svg, #messages script").count() == 0
    hrefs = page.locator("#messages a[href]").evaluate_all("links => links.map(a => a.href)")
    assert all(not href.startswith("javascript:") for href in hrefs), hrefs
    # Markdown tables keep their alignment under the page's CSP (no inline style). Checked by
    # `expect`, which looks again if a late agent reply re-rendered the timeline meanwhile (a
    # detached cell has no computed style).
    cell = page.locator(".markdown td", has_text="3.10x").first
    expect(cell).to_have_css("text-align", "right")
    assert refused == [], refused
    # In one step in the page: a late agent reply re-renders the timeline, which would detach a
    # node Playwright had resolved before scrolling it.
    page.evaluate(
        "id => document.querySelector(`.message[data-id='${id}']`).scrollIntoView()", reply.pk
    )
    page.screenshot(path=str(ARTIFACTS / "chat-hostile-desktop.png"))

    # The console's view of the same conversation.
    StaffFactory(tenant=acme, username="admin", roles=[SUPER_ADMIN])
    admin = page.context.browser.new_context()
    console = admin.new_page()
    console.goto(f"{site}/admin/login/")
    console.fill("input[name=username]", "admin")
    console.fill("input[name=password]", PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url(f"{site}/admin/")
    console.goto(f"{site}/admin/channels_app/conversation/{conversation.pk}/change/")
    expect(console.locator("body")).to_contain_text("window.__pwned = 1")
    assert console.evaluate("() => window.__pwned") is None
    assert console.locator("#content img[src=x], #content svg").count() == 0
    screenshot(console, "chat-hostile-admin")
    admin.close()


def test_a_requested_raise_is_answered_at_once_and_its_outcome_follows_the_approvals(
    page: Any, browser: Any, site: str, maya: User, acme: Tenant
) -> None:
    """In a conversation about a Meta campaign, "Can you increase the budget by $500?" is
    answered at once with a pending card; the manager and then the CFO approve it in the
    console, and the chat shows the outcome."""
    StaffFactory(tenant=acme, username="manager", roles=[MARKETING_MANAGER])
    StaffFactory(tenant=acme, username="cfo", roles=[CFO])
    lookalike = Campaign.objects.get(tenant=acme, name="Prospecting - Lookalike 1%")
    raised = lookalike.daily_budget + 500
    log_in(page, site)
    page.click("#new-chat")
    page.click("#agent-options [data-agent-type=paid_ads_optimization]")
    ask(page, "How is Prospecting - Lookalike 1% doing?")
    expect(page.locator(".message-agent").last).to_contain_text(
        "Prospecting - Lookalike 1% (Meta)", timeout=REPLY_TIMEOUT
    )
    ask(page, "Can you increase the budget by $500?")
    answer = page.locator(".message-agent", has_text="needs approval").last
    expect(answer).to_contain_text(f"to ${raised:,.2f}", timeout=REPLY_TIMEOUT)
    card = page.locator(".action-card:not(.action-card-review)", has_text="Raise").last
    expect(card).to_contain_text("Awaiting approval")
    # The earlier answer suggested a raise of its own; this one is what maya asked for.
    approval = Approval.objects.get(tenant=acme, action_data__requested=True)
    assert approval.action_type == "budget_increase" and approval.status == "pending"
    screenshot(page, "chat-requested-raise-pending")

    # Two levels decide it in the console, each in their own browser.
    for username in ("manager", "cfo"):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        console = context.new_page()
        console.goto(f"{site}/admin/login/?next=/admin/hitl/approval/{approval.pk}/change/")
        console.fill("input[name=username]", username)
        console.fill("input[name=password]", PASSWORD)
        console.click("button[type=submit]")
        console.wait_for_url(f"**/admin/hitl/approval/{approval.pk}/change/")
        console.locator("#decide-approve button[type=submit]").click()
        console.wait_for_url(f"**/admin/hitl/approval/{approval.pk}/change/")
        context.close()

    expect(page.locator(".message-system", has_text="was approved and carried out")).to_be_visible(
        timeout=REPLY_TIMEOUT
    )
    expect(card).to_contain_text("Approved")
    lookalike.refresh_from_db()
    assert lookalike.daily_budget == raised
    screenshot(page, "chat-requested-raise-done")


# --- human takeover: maya on the chat page, Alex in the console ----------------------------------


def console_log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_a_human_takes_over_replies_and_hands_back(
    page: Any, browser: Any, site: str, maya: User, acme: Tenant
) -> None:
    StaffFactory(tenant=acme, username="alex", first_name="Alex", roles=[SUPPORT_ADMIN])
    log_in(page, site)
    page.click("#new-chat")
    page.click("#agent-options [data-agent-type=paid_ads_optimization]")
    ask(page, "What is my ROAS this month?")
    expect(page.locator(".message-agent")).to_have_count(1, timeout=30_000)
    conversation = Conversation.objects.get(user=maya)

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    console = context.new_page()
    console.set_default_timeout(15_000)
    console_log_in(console, site, "alex")
    console.goto(f"{site}/admin/channels_app/conversation/{conversation.pk}/change/")
    console.click("#takeover-button")
    expect(console.locator("#takeover-control")).to_contain_text("Alex has this conversation.")
    expect(
        page.locator(".message-system", has_text="Alex from the team has joined")
    ).to_be_visible()

    runs, approvals = AgentRun.objects.count(), Approval.objects.count()
    ask(page, "Can a human raise my Meta budget by $500?")
    expect(page.locator(".message-user")).to_have_count(2)
    # The console's thread shows it without a reload (the live view).
    expect(
        console.locator("#thread .thread-message.live", has_text="raise my Meta budget")
    ).to_be_visible()
    console.fill("#human-reply-form textarea", "Hi Maya, Alex here: I'm on it.")
    console.click("#human-reply-button")
    reply = page.locator(".message", has_text="Alex here")
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("Alex (team)")
    assert AgentRun.objects.count() == runs and Approval.objects.count() == approvals
    assert not page.locator("#typing").is_visible()
    screenshot(page, "takeover-chat")
    screenshot(console, "takeover-console")

    console.click("#handback-button")
    expect(page.locator(".message-system", has_text="You're back with")).to_be_visible()
    ask(page, "What is my ROAS this month?")
    expect(page.locator(".message-agent")).to_have_count(2, timeout=30_000)
    human = Message.objects.get(conversation=conversation, sender_kind="human")
    assert human.metadata["operator_name"] == "Alex"
    context.close()
