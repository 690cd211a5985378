from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Count, Max, QuerySet, Sum
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.views import ChangeList

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from accounts.models import User
from accounts.types import admin_request
from channels_app.events import Event
from channels_app.models import Channel, Conversation
from hitl.models import Approval
from monitoring import conversation_admin  # noqa: F401  (the conversation pages)
from monitoring.models import DailyRollup, UserActivity
from privacy.access_log import Action, access_records
from privacy.reveal import can_view_pii, mask_for


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = ["created_at", "kind", "channel", "agent_type", "conversation", "duration_ms"]
    list_filter = ["kind", "channel", "agent_type"]
    list_select_related = ["conversation"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["conversation", "message"]


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = [
        "day",
        "channel",
        "agent_type",
        "conversations_started",
        "messages_user",
        "messages_agent",
        "response_p95",
        "csat_average",
        "runs",
        "cost",
    ]
    list_filter = ["channel", "agent_type"]
    date_hierarchy = "day"
    show_full_result_count = False
    exclude = ["rollup_day"]

    @display(description="cost (USD)")
    def cost(self, obj: DailyRollup) -> Decimal:
        return obj.cost_usd


class ActivityChangeList(ChangeList):
    """The page's people with their figures, in three queries whatever their number: their
    conversations grouped by person and channel, their approval requests, their numbers."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        people = list(self.result_list)
        ids = [person.pk for person in people]
        conversations = (
            Conversation.objects.filter(user_id__in=ids, is_deleted=False)
            .order_by()
            .values("user_id", "channel")
            .annotate(
                n=Count("id"),
                messages=Sum("message_count"),
                last=Max("last_activity_at"),
                rated=Count("csat_score"),
                score=Sum("csat_score"),
            )
        )
        activity: dict[int, dict[str, Any]] = defaultdict(
            lambda: {"channels": [], "n": 0, "messages": 0, "last": None, "rated": 0, "score": 0}
        )
        for row in conversations:
            person = activity[row["user_id"]]
            person["channels"].append(row["channel"])
            person["n"] += row["n"]
            person["messages"] += row["messages"] or 0
            person["last"] = max(filter(None, [person["last"], row["last"]]), default=None)
            person["rated"] += row["rated"]
            person["score"] += row["score"] or 0
        requested = dict(
            Approval.objects.filter(requested_by_id__in=ids)
            .order_by()
            .values("requested_by_id")
            .annotate(n=Count("id"))
            .values_list("requested_by_id", "n")
        )
        viewer = admin_request(request).user
        for person in people:
            figures = activity[person.pk]
            primary = next(
                (p for p in person.phone_numbers.all() if p.primary),
                next(iter(person.phone_numbers.all()), None),
            )
            person.activity = {
                **figures,
                "approvals": requested.get(person.pk, 0),
                "email": mask_for(viewer, "email", person.email),
                "phone": mask_for(viewer, "phone", primary.phone_number if primary else ""),
            }
        if people and can_view_pii(viewer):
            access_records(
                request,
                action=Action.VIEW_USER,
                resource_type="user",
                resource_ids=ids,
                pii_accessed=True,
            )


@admin.register(UserActivity)
class UserActivityAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    """The PRD's users page: per person, their channels, conversations, last activity, messages,
    approvals requested and CSAT. Email and phone are masked for roles without view_pii; a role
    that sees them whole is written to the access log, one row per person shown."""

    list_display = [
        "username",
        "email_shown",
        "phone_shown",
        "channels",
        "conversations",
        "messages",
        "last_active",
        "approvals_requested",
        "csat",
    ]
    list_display_links = None
    list_filter = ["is_staff", "is_active"]
    search_fields = ["username"]
    ordering = ["username"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("phone_numbers")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ActivityChangeList

    @display(description="email")
    def email_shown(self, obj: Any) -> str:
        return obj.activity["email"] or "-"

    @display(description="phone")
    def phone_shown(self, obj: Any) -> str:
        return obj.activity["phone"] or "-"

    @display(description="channels")
    def channels(self, obj: Any) -> str:
        labels = dict(Channel.choices)
        return ", ".join(labels[c] for c in sorted(obj.activity["channels"])) or "-"

    @display(description="conversations")
    def conversations(self, obj: Any) -> int:
        return obj.activity["n"]

    @display(description="messages")
    def messages(self, obj: Any) -> int:
        return obj.activity["messages"]

    @display(description="last active")
    def last_active(self, obj: Any) -> Any:
        return max(filter(None, [obj.activity["last"], obj.last_login]), default=None) or "-"

    @display(description="approvals requested")
    def approvals_requested(self, obj: Any) -> int:
        return obj.activity["approvals"]

    @display(description="CSAT")
    def csat(self, obj: Any) -> str:
        rated = obj.activity["rated"]
        return f"{obj.activity['score'] / rated:.1f} ({rated})" if rated else "-"
