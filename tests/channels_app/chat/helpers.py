"""What the chat tests share: a tenant with the demo's marketing data, people in it, their
session cookies, questions the built-in agents answer (or hold), and a WebSocket helper."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.models import SubscriptionTier, Tenant, User
from agents import selectors as data
from agents.backends.builtin.common import ratio
from agents.backends.builtin.paid_ads import WINDOW_DAYS, proposals
from agents.demo import demo_marketing_seed
from agents.models import AgentInstance, Campaign
from agents.services import agent_instance_update
from engarde.asgi import application
from tests.factories import TenantFactory, UserFactory

ORIGIN = (b"origin", b"http://localhost")


def demo_tenant(slug: str = "acme") -> Tenant:
    tenant = TenantFactory(slug=slug, name=slug.title(), tier=SubscriptionTier.BUSINESS)
    demo_marketing_seed(tenants={"acme": tenant}, today=dt.date.today(), progress=lambda _: None)
    return tenant


def enable_agents(tenant: Tenant, *agent_types: str) -> None:
    for instance in AgentInstance.objects.filter(tenant=tenant, agent__agent_type__in=agent_types):
        agent_instance_update(instance=instance, enabled=True)


def person(tenant: Tenant, username: str) -> User:
    return UserFactory(tenant=tenant, username=username)


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def communicator(
    *, cookie: bytes | None = None, token: str | None = None, origin: tuple[bytes, bytes] = ORIGIN
) -> WebsocketCommunicator:
    headers = [origin]
    if cookie:
        headers.append((b"cookie", cookie))
    if token is not None:
        headers.append((b"authorization", f"Token {token}".encode()))
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


def quiet_campaign(tenant: Tenant) -> tuple[Campaign, str]:
    """An active campaign the paid-ads agent proposes nothing for, and its ROAS as the agent
    prints it: asking about it gets a plain answer that goes straight out."""
    end = data.latest_ad_day(tenant)
    window = data.window_ending(end, WINDOW_DAYS)
    busy = {a.data["campaign_id"] for a in proposals(tenant, window, platform=None, campaign=None)}
    by_campaign = data.ad_stats_by_campaign(tenant=tenant, window=window)
    for campaign in data.campaigns(tenant):
        stats = by_campaign.get(campaign.pk)
        if (
            campaign.status == Campaign.Status.ACTIVE
            and campaign.pk not in busy
            and stats
            and stats.roas
        ):
            return campaign, ratio(stats.roas)
    raise AssertionError("the demo data has no quiet campaign")


def roas_question(tenant: Tenant) -> tuple[str, str]:
    campaign, roas = quiet_campaign(tenant)
    return f"What's the ROAS of {campaign.name} in the last 7 days?", f"ROAS {roas}"


RECOMMENDATION_QUESTION = "What do you recommend for our ad campaigns?"


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


async def receive_until(
    socket: WebsocketCommunicator, event: str, *, timeout: float = 10
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Frames until one of `event` arrives: (that frame, every frame read)."""
    seen: list[dict[str, Any]] = []
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        seen.append(frame)
        if frame.get("event") == event:
            return frame, seen
