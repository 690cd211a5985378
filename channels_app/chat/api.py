"""The chat's REST API under /api/v1/channels/chat/: the person's own conversations only.

Every view is scoped to the caller's tenant and, within it, to conversations the caller owns: an
id of someone else's conversation (or message) answers 404, as an unknown one does. With
ENABLE_CHAT off every endpoint answers 503 `{"error": "disabled"}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasTenant
from accounts.types import AuthedAPIRequest
from agents.types import WALKER_AGENT_TYPES
from channels_app.chat import selectors, services
from channels_app.models import Conversation
from engarde.errors import ErrorSerializer, ServiceDisabled
from engarde.fields import IdField

CHAT_DISABLED = "The web chat is switched off on this server (ENABLE_CHAT)."
SEARCH_MAX = 200

ERRORS = {
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: OpenApiResponse(ErrorSerializer, description="Not yours, or no such thing."),
    503: OpenApiResponse(ErrorSerializer, description="ENABLE_CHAT is off."),
}


class ChatAPIView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    def check_permissions(self, request: Request) -> None:
        if not settings.ENABLE_CHAT:
            raise ServiceDisabled(CHAT_DISABLED)
        super().check_permissions(request)

    def owned(self, request: AuthedAPIRequest, conversation_id: int) -> Conversation:
        conversation = selectors.conversation_get(
            user=request.user, conversation_id=conversation_id
        )
        if conversation is None:
            raise NotFound("No such conversation.")
        return conversation


def _chat_error(error: services.ChatError) -> APIException:
    if isinstance(error, services.ConversationNotFound):
        return NotFound(error.detail)
    if error.field:
        return ValidationError({error.field: [error.detail]})
    return ValidationError(error.detail)


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    kind = serializers.CharField(help_text="Who wrote it: user, agent, human or system.")
    content = serializers.CharField(help_text="The raw text (markdown).")
    html = serializers.CharField(help_text="The text rendered from markdown, sanitised.")
    agent_type = serializers.CharField()
    agent_name = serializers.CharField()
    status = serializers.CharField(help_text="received, queued, sent, delivered, read, failed")
    reply_to = serializers.IntegerField(allow_null=True)
    client_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    bookmarked = serializers.BooleanField()


class ChatCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The approval.")
    action_type = serializers.CharField(help_text="held_reply, or the proposed action's type.")
    title = serializers.CharField()
    description = serializers.CharField(help_text="The agent's own words for the action.")
    figures = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="The figures behind it: [{label, value}].",
    )
    estimated_cost = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    estimated_reach = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    hold_reasons = serializers.ListField(child=serializers.CharField())
    conversation_id = serializers.IntegerField()
    reply_to = serializers.IntegerField(allow_null=True, help_text="The message it answers.")
    created_at = serializers.DateTimeField()


class ChatConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="The person's first message, shortened.")
    agent_type = serializers.CharField()
    agent_name = serializers.CharField()
    status = serializers.CharField()
    message_count = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()


class ConversationsView(ChatAPIView):
    class ChatConversationCreateSerializer(serializers.Serializer):
        agent_type = serializers.ChoiceField(choices=WALKER_AGENT_TYPES)

    class ChatConversationListSerializer(serializers.Serializer):
        results = ChatConversationSerializer(many=True)

    @extend_schema(
        responses={200: ChatConversationListSerializer, **ERRORS},
        operation_id="chat_conversations_list",
        summary="The caller's chat conversations, latest activity first (at most 100)",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        return Response({"results": selectors.conversation_list(request.user)})

    @extend_schema(
        request=ChatConversationCreateSerializer,
        responses={201: ChatConversationSerializer, 400: ErrorSerializer, **ERRORS},
        summary="Start a chat with a Walker agent",
        description="The agent must be enabled for the caller's workspace.",
    )
    def post(self, request: AuthedAPIRequest) -> Response:
        serializer = self.ChatConversationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            conversation = services.chat_conversation_create(
                user=request.user, agent_type=serializer.validated_data["agent_type"]
            )
        except services.ChatError as error:
            raise _chat_error(error) from None
        return Response(
            selectors.conversation_summary(conversation), status=status.HTTP_201_CREATED
        )


class ConversationView(ChatAPIView):
    class ChatHistoryQuerySerializer(serializers.Serializer):
        before = IdField(required=False, help_text="Only messages older than this id.")
        limit = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=selectors.MAX_HISTORY_PAGE,
            default=selectors.HISTORY_PAGE,
        )

    class ChatConversationDetailSerializer(ChatConversationSerializer):
        messages = ChatMessageSerializer(many=True, help_text="Oldest first.")
        has_more = serializers.BooleanField(help_text="Older messages exist: ask with before.")
        cards = ChatCardSerializer(many=True, help_text="Actions proposed in this conversation.")
        processing = serializers.BooleanField(help_text="An agent is answering right now.")

    @extend_schema(
        parameters=[ChatHistoryQuerySerializer],
        responses={200: ChatConversationDetailSerializer, 400: ErrorSerializer, **ERRORS},
        operation_id="chat_conversation_retrieve",
        summary="A conversation with a page of its history",
        description="The latest `limit` messages (50 by default) before `before`, oldest first. "
        "Replies still waiting for approval are not shown; their proposed actions are the cards.",
    )
    def get(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        conversation = self.owned(request, conversation_id)
        query = self.ChatHistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.history_before(
            request.user,
            conversation,
            before=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                **selectors.conversation_summary(
                    conversation, selectors.conversation_title(conversation)
                ),
                "messages": page.messages,
                "has_more": page.has_more,
                "cards": selectors.conversation_cards(conversation),
                "processing": selectors.is_processing(conversation),
            }
        )

    @extend_schema(
        responses={204: OpenApiResponse(description="Deleted."), **ERRORS},
        summary="Delete a conversation (soft)",
        description="Hidden from the caller from now on; kept for the console and retention.",
    )
    def delete(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        try:
            services.chat_conversation_delete(user=request.user, conversation_id=conversation_id)
        except services.ChatError as error:
            raise _chat_error(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


EXPORT_FORMATS = {
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "json": ("application/json", "json"),
}


class ExportView(ChatAPIView):
    @extend_schema(
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
            **ERRORS,
        },
        summary="Download a conversation's transcript (markdown or json)",
    )
    def get(self, request: AuthedAPIRequest, conversation_id: int, kind: str) -> HttpResponse:
        conversation = self.owned(request, conversation_id)
        content_type, extension = EXPORT_FORMATS[kind]
        body = (
            selectors.transcript_json(request.user, conversation)
            if kind == "json"
            else selectors.transcript_markdown(request.user, conversation)
        )
        response = HttpResponse(body, content_type=content_type)
        filename = f"engarde-chat-{conversation.pk}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ChatSearchHitSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    conversation_title = serializers.CharField()
    message_id = serializers.IntegerField()
    kind = serializers.CharField()
    snippet = serializers.CharField()
    created_at = serializers.DateTimeField()


class SearchView(ChatAPIView):
    class ChatSearchQuerySerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=SEARCH_MAX,
            help_text="Words to find.",
            error_messages={
                "required": "Type something to search for.",
                "blank": "Type something to search for.",
                "max_length": "At most {max_length} characters.",
            },
        )

    class ChatSearchSerializer(serializers.Serializer):
        results = ChatSearchHitSerializer(many=True)

    @extend_schema(
        parameters=[ChatSearchQuerySerializer],
        responses={200: ChatSearchSerializer, 400: ErrorSerializer, **ERRORS},
        summary="Search the caller's chat history",
        description="Messages containing every word (case-insensitive), newest first, at most "
        "50. Bodies are encrypted at rest, so only the caller's latest CHAT_SEARCH_MAX_MESSAGES "
        "messages are searched.",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        query = self.ChatSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"results": selectors.search(request.user, query.validated_data["q"])})


class ChatBookmarkSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    snippet = serializers.CharField()
    kind = serializers.CharField()
    created_at = serializers.DateTimeField()


class BookmarksView(ChatAPIView):
    class ChatBookmarkListSerializer(serializers.Serializer):
        results = ChatBookmarkSerializer(many=True)

    @extend_schema(
        responses={200: ChatBookmarkListSerializer, **ERRORS},
        summary="The caller's bookmarked chat messages, newest first",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        return Response({"results": selectors.bookmark_list(request.user)})


class BookmarkView(ChatAPIView):
    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Bookmarked (again is fine)."), **ERRORS},
        summary="Bookmark a message of one's own chat",
    )
    def put(self, request: AuthedAPIRequest, message_id: int) -> Response:
        self._apply(services.bookmark_add, request, message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={204: OpenApiResponse(description="No longer bookmarked."), **ERRORS},
        summary="Remove a bookmark",
    )
    def delete(self, request: AuthedAPIRequest, message_id: int) -> Response:
        self._apply(services.bookmark_remove, request, message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _apply(self, service: Any, request: AuthedAPIRequest, message_id: int) -> None:
        try:
            service(user=request.user, message_id=message_id)
        except services.ChatError:
            raise NotFound("No such message.") from None
