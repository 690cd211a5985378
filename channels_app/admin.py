from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from accounts.admin_base import TenantScopedAdminMixin
from accounts.types import admin_request
from channels_app.models import Conversation, Message
from channels_app.selectors import message_text


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Conversations start when a person writes on a channel, never from the console.
        return False
