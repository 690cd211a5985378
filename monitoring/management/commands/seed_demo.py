"""`manage.py seed_demo`: the demo data of DESIGN.md, idempotent.

A thin orchestrator: each app seeds its own rows in its `demo.py`, in import order (people
first, then what refers to them), so a later app adds its step here without touching the others.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import models
from django.utils import timezone

from accounts.demo import TENANTS, demo_password, demo_people_seed
from accounts.models import Tenant, User, UserPhoneNumber
from agents.demo import demo_marketing_seed
from agents.models import (
    AgentRun,
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    SegmentDay,
)
from channels_app.demo import demo_conversations_seed
from channels_app.email.demo import demo_email_seed
from channels_app.events import Event
from channels_app.models import Conversation, EmailPreferences, EmailSend, Message
from hitl.demo import demo_approvals_seed
from hitl.models import Approval
from monitoring.analytics.rollups import rollups_backfill

# Who answers when a demo end user asks for a person, per tenant.
OPERATORS = {"acme": "manager", "globex": "globex_admin"}


def demo_counts() -> dict[str, int]:
    """Rows of the demo tenants, by kind, for the summary."""
    tenants = Tenant.objects.filter(slug__in=[t.slug for t in TENANTS])
    querysets: dict[str, models.QuerySet[Any]] = {
        "tenants": tenants,
        "users": User.objects.filter(tenant__in=tenants),
        "phone numbers": UserPhoneNumber.objects.filter(user__tenant__in=tenants),
        "conversations": Conversation.objects.filter(tenant__in=tenants),
        "messages": Message.objects.filter(conversation__tenant__in=tenants),
        "events": Event.objects.filter(tenant__in=tenants),
        "approvals": Approval.objects.filter(tenant__in=tenants),
        "agent runs": AgentRun.objects.filter(tenant__in=tenants),
        "campaigns": Campaign.objects.filter(tenant__in=tenants),
        "campaign days": CampaignDay.objects.filter(campaign__tenant__in=tenants),
        "keyword rankings": KeywordRanking.objects.filter(tenant__in=tenants),
        "page traffic rows": PageTraffic.objects.filter(tenant__in=tenants),
        "content items": ContentItem.objects.filter(tenant__in=tenants),
        "segments": AudienceSegment.objects.filter(tenant__in=tenants),
        "segment days": SegmentDay.objects.filter(segment__tenant__in=tenants),
        "email preferences": EmailPreferences.objects.filter(user__tenant__in=tenants),
        "email sends": EmailSend.objects.filter(tenant__in=tenants),
    }
    return {name: queryset.count() for name, queryset in querysets.items()}


class Command(BaseCommand):
    help = (
        "Create the demo tenants (acme, globex), their staff and end users, their Walker agents "
        "and sixty days of marketing data, and weeks of conversations. Safe to run again: what "
        "exists is kept, and what the demo relies on (roles, passwords, phone numbers) is put "
        "back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing (as -v 0).")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["quiet"] or options["verbosity"] == 0

        def progress(line: str) -> None:
            if not quiet:
                self.stdout.write(line)

        started = time.monotonic()
        now = timezone.now()
        people = demo_people_seed(password=demo_password(), progress=progress)
        created: Counter[str] = demo_marketing_seed(
            tenants=people.tenants, today=timezone.localdate(now), progress=progress
        )
        for user in people.end_users:
            operator = people.users.get(OPERATORS.get(user.member_tenant.slug, ""))
            created += demo_conversations_seed(
                user=user, operator=operator, now=now, progress=progress
            )
        created += demo_email_seed(users=people.users, now=now, progress=progress)

        for tenant in people.tenants.values():
            requester = next((u for u in people.end_users if u.tenant_id == tenant.pk), None)
            created += demo_approvals_seed(
                tenant=tenant, requester=requester, now=now, progress=progress
            )

        # The dashboard reads rollups: the demo's weeks are rolled up now, not at 01:00.
        rolled = rollups_backfill(now=now)
        progress(f"  analytics rolled up: {rolled.days} days")

        counts = demo_counts()
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        new = ", ".join(f"{count} {name}" for name, count in created.items()) or "nothing"
        progress(
            self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f}s: {summary}")
        )
        progress(f"  created by this run: {new}")
