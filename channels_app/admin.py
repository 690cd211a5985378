from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.admin import ModelAdmin, TabularInline

from accounts.admin_base import TenantScopedAdminMixin
from accounts.roles import PII_FULL_ACCESS
from accounts.types import admin_request
from channels_app.models import Conversation, Message
from channels_app.selectors import message_text
from privacy.access_log import Action, access_record
from privacy.reveal import JUSTIFICATION_MAX, justification_clean, may_reveal, pii_kinds_visible


class MessageInline(TabularInline):
    """The conversation's transcript, as the system recorded it: nobody edits it."""

    model = Message
    extra = 0
    can_delete = False
    show_change_link = False
    fields = [
        "created_at",
        "direction",
        "sender_kind",
        "text",
        "agent_type",
        "confidence",
        "delivery_status",
        "error_code",
        "error_message",
    ]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("conversation")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # The admin makes its inline instances anew for each request: the viewer is this one's.
        self.viewer = admin_request(request).user
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="Text")
    def text(self, message: Message) -> str:
        return message_text(message, viewer=self.viewer)


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdminMixin, ModelAdmin):
    list_display = [
        "id",
        "user",
        "channel",
        "current_agent_type",
        "status",
        "priority",
        "message_count",
        "last_activity_at",
    ]
    list_filter = ["channel", "current_agent_type", "status", "priority", "sentiment", "is_deleted"]
    list_select_related = ["user", "tenant"]
    search_fields = ["=id", "user__username"]
    date_hierarchy = "last_activity_at"
    raw_id_fields = ["user"]
    show_full_result_count = False
    inlines = [MessageInline]
    readonly_fields = ["started_at", "last_activity_at", "message_count", "channel", "user"]
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
        "is_deleted",
    ]

    # Outside the change form: a form may not nest in another.
    change_form_outer_before_template = "admin/channels_app/conversation/reveal_control.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Conversations start when a person writes on a channel, never from the console.
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="channels_app_conversation_reveal",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
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
        if conversation is not None and request.method == "GET":
            access_record(
                request,
                action=Action.VIEW_CONVERSATION,
                resource_type="conversation",
                resource_id=conversation.pk,
                tenant_id=conversation.tenant_id,
            )
        context = {
            "may_reveal": may_reveal(request.user),
            "reveal_url": reverse("admin:channels_app_conversation_reveal", args=[object_id]),
            "justification_max": JUSTIFICATION_MAX,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

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
