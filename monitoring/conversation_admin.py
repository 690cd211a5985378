"""The console's conversation pages: the list (filters, search in what was written, the
priority queue), the thread, the reveal, human takeover. Registered from monitoring/admin.py."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter, RangeNumericFilter
from unfold.decorators import display
from unfold.paginator import InfinitePaginator

from accounts.admin_base import AccessLoggedAdminMixin, TenantScopedAdminMixin
from accounts.models import User
from accounts.roles import PII_FULL_ACCESS, SUPER_ADMIN
from accounts.types import admin_request
from agents.types import ActionType as AgentActionType
from agents.types import AgentType
from channels_app.models import Conversation, Message
from channels_app.search_index import conversations_matching
from channels_app.selectors import message_text
from channels_app.takeover import (
    HUMAN_REPLY_MAX,
    TakeoverRefused,
    conversation_handback,
    conversation_human_reply,
    conversation_takeover,
    operator_name,
)
from channels_app.triage import RANK
from channels_app.whatsapp.services import MAX_MESSAGE_CHARS, recipient_find, whatsapp_admin_send
from hitl.models import OPEN_STATUSES, Approval
from monitoring.thread import conversation_thread
from privacy.access_log import Action, access_record
from privacy.reveal import (
    JUSTIFICATION_MAX,
    justification_clean,
    may_reveal,
    pii_kinds_visible,
    text_for,
)

TAKEOVER_STEPS = ("takeover", "reply", "handback")
# A search also finds the conversations of the people whose username holds it: at most this many.
SEARCH_PEOPLE_MAX = 500
STATUS_COLOURS = {
    Conversation.Status.ACTIVE: "success",
    Conversation.Status.WAITING: "warning",
    Conversation.Status.HUMAN: "info",
    Conversation.Status.CLOSED: "",
}
PRIORITY_COLOURS = {
    Conversation.Priority.URGENT: "danger",
    Conversation.Priority.HIGH: "warning",
    Conversation.Priority.NORMAL: "",
    Conversation.Priority.LOW: "",
}


class ActionTypeFilter(admin.SimpleListFilter):
    """Conversations that contain a proposed action of this type."""

    title = "contains actions"
    parameter_name = "action_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in AgentActionType.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        return queryset.filter(
            Exists(Approval.objects.filter(conversation=OuterRef("pk"), action_type=self.value()))
        )


class AttentionFilter(admin.SimpleListFilter):
    """The priority queue: open conversations whose priority is high or urgent (sort by the
    priority column, most pressing first)."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "High or urgent, open")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() != "yes":
            return queryset
        return queryset.exclude(status=Conversation.Status.CLOSED).filter(
            priority__in=(Conversation.Priority.HIGH, Conversation.Priority.URGENT)
        )


class PendingApprovalFilter(admin.SimpleListFilter):
    title = "pending approval"
    parameter_name = "pending"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Waiting for a decision"), ("no", "None waiting")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(has_pending_approval=True)
        if self.value() == "no":
            return queryset.filter(has_pending_approval=False)
        return queryset


@admin.register(Conversation)
class ConversationAdmin(AccessLoggedAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    """Every conversation on every channel. What the system writes is read-only: staff take a
    conversation over or hand it back with the buttons, and delete (soft) as super admins."""

    list_display = [
        "id",
        "user",
        "channel",
        "current_agent_type",
        "message_count",
        "last_message",
        "status_label",
        "priority_label",
        "pending_approval",
        "human_operator",
    ]
    list_filter = [
        ("last_activity_at", RangeDateTimeFilter),
        "channel",
        "current_agent_type",
        "status",
        "priority",
        "sentiment",
        ("message_count", RangeNumericFilter),
        ActionTypeFilter,
        PendingApprovalFilter,
        AttentionFilter,
        "is_deleted",
    ]
    list_filter_submit = True
    list_select_related = ["user", "tenant", "human_operator"]
    search_fields = ["=id", "user__username"]
    search_help_text = (
        'Words in any message (all must match), "a phrase", a phone number or an email'
    )
    raw_id_fields = ["user"]
    show_full_result_count = False
    # Previous and next, no count: a search for a common word matches most conversations, and
    # counting them would read every match to show one page.
    paginator = InfinitePaginator
    list_per_page = 50
    access_action = Action.VIEW_CONVERSATION  # masked: pii_accessed stays False
    access_resource_type = "conversation"
    fields = [
        "tenant",
        "user",
        "channel",
        "current_agent_type",
        "status",
        "priority",
        "sentiment",
        "started_at",
        "last_activity_at",
        "message_count",
        "human_operator",
        "escalated_at",
        "csat_score",
        "is_deleted",
    ]
    # What the system writes: the page only shows it.
    readonly_fields = fields

    list_before_template = "admin/channels_app/conversation/list_before.html"
    # A thread, not a form (the template includes the reveal and takeover controls).
    change_form_template = "admin/channels_app/conversation/change_form.html"

    class Media:
        # The live view: new messages, statuses and takeovers without a reload.
        js = ["console/live.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_message_id=Subquery(last.values("id")[:1]),
                has_pending_approval=Exists(
                    Approval.objects.filter(conversation=OuterRef("pk"), status__in=OPEN_STATUSES)
                ),
                priority_rank=Case(
                    *(When(priority=value, then=Value(rank)) for value, rank in RANK.items()),
                    default=Value(1),
                ),
            )
        )

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        # The page's last messages in one query, masked for whoever reads the list.
        ids = [c.last_message_id for c in changelist.result_list if c.last_message_id]
        self._last_messages = {m.pk: m for m in Message.objects.filter(pk__in=ids)}
        self._viewer = admin_request(request).user
        return changelist

    @admin.display(description="Last message", ordering="last_activity_at")
    def last_message(self, conversation: Conversation) -> str:
        message = getattr(self, "_last_messages", {}).get(conversation.last_message_id)  # type: ignore[attr-defined]
        when = f"{timesince(conversation.last_activity_at)} ago"
        if message is None:
            return when
        text = text_for(self._viewer, message.body)
        return f"{when}: {Truncator(text).chars(60)}"

    @display(description="Status", ordering="status", label=STATUS_COLOURS)
    def status_label(self, conversation: Conversation) -> tuple[str, str]:
        return conversation.status, conversation.get_status_display()

    @display(description="Priority", ordering="priority_rank", label=PRIORITY_COLOURS)
    def priority_label(self, conversation: Conversation) -> tuple[str, str]:
        return conversation.priority, conversation.get_priority_display()

    @display(description="Awaiting approval", boolean=True)
    def pending_approval(self, conversation: Conversation) -> bool:
        return conversation.has_pending_approval  # type: ignore[attr-defined]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing on the page is edited by hand; takeover and hand-back have their own checks.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = admin_request(request).user
        return user.has_perm("channels_app.delete_conversation") and (
            user.is_superuser or SUPER_ADMIN in user.roles
        )

    def delete_model(self, request: HttpRequest, obj: Conversation) -> None:
        # Soft: the conversation leaves the console and the person's lists; its rows stay for
        # analytics and retention.
        Conversation.objects.filter(pk=obj.pk).update(is_deleted=True, deleted_at=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(is_deleted=True, deleted_at=timezone.now())

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Conversations start when a person writes on a channel, never from the console.
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "send-whatsapp/",
                self.admin_site.admin_view(self.send_whatsapp_view),
                name="channels_app_conversation_send_whatsapp",
            ),
            path(
                "<path:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="channels_app_conversation_reveal",
            ),
            *(
                path(
                    f"<path:object_id>/{step}/",
                    self.admin_site.admin_view(self.takeover_view),
                    {"step": step},
                    name=f"channels_app_conversation_{step}",
                )
                for step in TAKEOVER_STEPS
            ),
            *super().get_urls(),
        ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """By id and username as before, and by what was written: words, phrases, a phone
        number or an email in any message, through the blind token index."""
        term = search_term.strip()
        if not term:
            return queryset, False
        user = admin_request(request).user
        tenant_id = None if user.is_superuser else user.tenant_id
        found = conversations_matching(tenant_id=tenant_id, text=term)
        # Or by id, or whose username holds it: resolved first, so that a search that names
        # nobody (most) plans without an OR, and a page of a common word's conversations is a
        # walk down the newest, not a gathering of every match.
        named = User.objects.filter(username__icontains=term)
        if tenant_id is not None:
            named = named.filter(tenant_id=tenant_id)
        people = list(named.values_list("pk", flat=True)[:SEARCH_PEOPLE_MAX])
        if people:
            found |= Q(user_id__in=people)
        if term.isdecimal():
            found |= Q(pk=int(term))
        return queryset.filter(found), False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            "may_send_whatsapp": settings.ENABLE_WHATSAPP
            and request.user.has_perm("channels_app.change_conversation"),
            **(extra_context or {}),
        }
        if request.GET.get("q"):
            # The query itself may be a phone number: the log says that a search ran, not what.
            access_record(request, action=Action.SEARCH_CONVERSATIONS, resource_type="conversation")
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        conversation = self.get_object(request, unquote(object_id))
        context = {
            "may_reveal": may_reveal(request.user),
            "reveal_url": reverse("admin:channels_app_conversation_reveal", args=[object_id]),
            "justification_max": JUSTIFICATION_MAX,
            "may_take_over": request.user.has_perm("channels_app.change_conversation"),
            "held_by": (
                operator_name(conversation.human_operator)
                if conversation is not None and conversation.status == Conversation.Status.HUMAN
                else None
            ),
            "reply_max": HUMAN_REPLY_MAX,
            # Names the live view needs to label what arrives (static/console/live.js).
            "live_agents": json.dumps({value: str(label) for value, label in AgentType.choices}),
            "live_statuses": json.dumps(
                {value: str(label) for value, label in Message.DeliveryStatus.choices}
            ),
            **(
                conversation_thread(conversation, viewer=admin_request(request).user)
                if conversation is not None
                else {}
            ),
            **{
                f"{step}_url": reverse(f"admin:channels_app_conversation_{step}", args=[object_id])
                for step in TAKEOVER_STEPS
            },
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def send_whatsapp_view(self, request: HttpRequest) -> HttpResponse:
        """The manual WhatsApp send, as a form: stored in the person's conversation as this
        member of staff, sent through the transport (window, consent), the outcome shown."""
        sender = admin_request(request).user
        if not sender.tenant_id or not sender.has_perm("channels_app.change_conversation"):
            raise PermissionDenied
        to = request.POST.get("to", "").strip()
        text = request.POST.get("message", "").strip()
        if request.method == "POST":
            recipient = recipient_find(tenant=sender.member_tenant, to=to) if to else None
            if recipient is None:
                self.message_user(request, "No such person in your workspace.", messages.ERROR)
            elif not text or len(text) > MAX_MESSAGE_CHARS:
                self.message_user(
                    request,
                    f"Write a message of at most {MAX_MESSAGE_CHARS} characters.",
                    messages.ERROR,
                )
            else:
                sent = whatsapp_admin_send(sender=sender, recipient=recipient, text=text)
                access_record(
                    request,
                    action=Action.HUMAN_REPLY,
                    resource_type="conversation",
                    resource_id=sent.conversation_id,
                )
                if sent.delivery_status == Message.DeliveryStatus.FAILED:
                    reason = sent.error_message or sent.error_code
                    self.message_user(
                        request,
                        f"Not sent ({reason}); it is kept in the conversation.",
                        messages.ERROR,
                    )
                else:
                    self.message_user(request, "Sent.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:channels_app_conversation_change", args=[sent.conversation_id])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a WhatsApp message",
            "opts": self.model._meta,
            "to": to or request.GET.get("to", ""),
            "text": text,
            "max_chars": MAX_MESSAGE_CHARS,
        }
        return TemplateResponse(
            request, "admin/channels_app/conversation/send_whatsapp.html", context
        )

    def takeover_view(self, request: HttpRequest, object_id: str, step: str) -> HttpResponse:
        """Take over, reply as yourself, hand back: each a POST, its outcome a message on the
        conversation's page."""
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None or not self.has_view_permission(request, conversation):
            raise PermissionDenied
        change_url = reverse("admin:channels_app_conversation_change", args=[conversation.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        operator = admin_request(request).user
        if not operator.has_perm("channels_app.change_conversation"):
            raise PermissionDenied
        level = messages.SUCCESS
        try:
            if step == "takeover":
                conversation_takeover(conversation=conversation, operator=operator)
                done, action = "You have the conversation: the bot is quiet.", Action.TAKEOVER
            elif step == "reply":
                text = request.POST.get("message", "")
                if len(text) > HUMAN_REPLY_MAX:
                    raise TakeoverRefused(f"Keep it under {HUMAN_REPLY_MAX} characters.")
                sent = conversation_human_reply(
                    conversation=conversation, operator=operator, text=text
                )
                done, action = "Sent.", Action.HUMAN_REPLY
                if sent.delivery_status == Message.DeliveryStatus.FAILED:
                    reason = sent.error_message or sent.error_code
                    done, level = (
                        f"Not delivered ({reason}); it is kept in the thread.",
                        messages.ERROR,
                    )
            else:
                conversation_handback(conversation=conversation, operator=operator)
                done, action = "Handed back: the agent answers again.", Action.HANDBACK
        except TakeoverRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            access_record(
                request,
                action=action,
                resource_type="conversation",
                resource_id=conversation.pk,
                tenant_id=conversation.tenant_id,
            )
            self.message_user(request, done, level)
        return HttpResponseRedirect(change_url)

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The conversation with its personal data shown, for this response only (a POST with
        a justification, written to the access log); a GET goes back to the masked page."""
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None or not self.has_view_permission(request, conversation):
            raise PermissionDenied
        change_url = reverse("admin:channels_app_conversation_change", args=[conversation.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        viewer = admin_request(request).user
        if not may_reveal(viewer):
            raise PermissionDenied
        try:
            justification = justification_clean(request.POST.get("justification"))
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(change_url)
        access_record(
            request,
            action=Action.REVEAL_PII,
            resource_type="conversation",
            resource_id=conversation.pk,
            pii_accessed=True,
            justification=justification,
            tenant_id=conversation.tenant_id,
        )
        rows = [
            {
                "id": message.pk,
                "created_at": message.created_at,
                "sender": message.get_sender_kind_display(),
                "text": message_text(message, viewer=viewer, revealed=True),
            }
            for message in conversation.messages.select_related("conversation").order_by(
                "created_at", "id"
            )
        ]
        visible = pii_kinds_visible(viewer)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{conversation}: personal data revealed",
            "heading": f"{conversation} with {conversation.user}",
            "opts": self.model._meta,
            "rows": rows,
            "justification": justification,
            "hidden_kinds": [
                kind.replace("_", " ") for kind in PII_FULL_ACCESS if kind not in visible
            ],
            "change_url": change_url,
        }
        response = TemplateResponse(
            request, "admin/channels_app/conversation/revealed.html", context
        )
        # A revealed page is never kept: not by the browser, not by a proxy.
        response["Cache-Control"] = "no-store"
        return response
