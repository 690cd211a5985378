"""The console's conversation APIs (`/api/v1/admin/conversations/...`): tenant-scoped, the text
masked for every role unless revealed with a justification, each view in the access log."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasTenant, tenant_of
from accounts.roles import PII_FULL_ACCESS
from accounts.types import AuthedAPIRequest
from agents.types import AgentType
from channels_app.models import Channel, Conversation, Message
from channels_app.selectors import message_page, message_text
from channels_app.takeover import (
    HUMAN_REPLY_MAX,
    TakeoverRefused,
    conversation_handback,
    conversation_human_reply,
    conversation_takeover,
)
from engarde.errors import ErrorSerializer
from engarde.fields import IdField
from engarde.pagination import cursor_page_query
from hitl.models import OPEN_STATUSES, Approval
from monitoring.conversations import (
    ConversationFilters,
    conversation_rows,
    conversations_filtered,
    priority_queue,
    with_list_columns,
)
from monitoring.permissions import SeesAllConversations
from privacy.access_log import Action, access_record
from privacy.reveal import (
    JUSTIFICATION_MAX,
    justification_clean,
    mask_for,
    may_reveal,
    pii_kinds_visible,
)

MESSAGES_PER_VIEW = 200
SEARCH_MAX = 200
SEARCH_TOTAL_MAX = 1000
QUEUE_MAX = 100
# Conversation.message_count is an integer column.
MESSAGE_COUNT_MAX = 2**31 - 1


class ConsoleMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.CharField()
    sender_kind = serializers.CharField()
    text = serializers.CharField()
    agent_type = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    delivery_status = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConsoleUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    phone_numbers = serializers.ListField(
        child=serializers.CharField(), help_text="Masked for roles without view_pii."
    )


class ConversationDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    agent_type = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    sentiment = serializers.CharField()
    started_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    message_count = serializers.IntegerField()
    user = ConsoleUserSerializer()
    messages = ConsoleMessageSerializer(many=True, help_text="The latest, oldest first.")
    has_earlier = serializers.BooleanField()
    revealed = serializers.BooleanField()
    masked_kinds = serializers.ListField(
        child=serializers.CharField(),
        help_text="The kinds of personal data still masked in `text` for this caller.",
    )


def conversations_of(request: AuthedAPIRequest) -> QuerySet[Conversation]:
    return Conversation.objects.for_tenant(tenant_of(request.user)).filter(is_deleted=False)


def console_message(message: Message, *, viewer: User, revealed: bool = False) -> dict:
    """One message as the console's APIs show it (ConsoleMessageSerializer), text masked unless
    revealed."""
    return {
        "id": message.pk,
        "direction": message.direction,
        "sender_kind": message.sender_kind,
        "text": message_text(message, viewer=viewer, revealed=revealed),
        "agent_type": message.agent_type,
        "confidence": message.confidence,
        "delivery_status": message.delivery_status,
        "created_at": message.created_at,
    }


def conversation_detail(
    conversation: Conversation, *, request: AuthedAPIRequest, revealed: bool
) -> dict:
    viewer = request.user
    page = message_page(conversation, viewer=viewer, limit=MESSAGES_PER_VIEW)
    for message in page.messages:
        message.conversation = conversation  # read by message_text: no query per message
    visible = pii_kinds_visible(viewer) if revealed else frozenset()
    user = conversation.user
    return {
        "id": conversation.pk,
        "channel": conversation.channel,
        "agent_type": conversation.current_agent_type,
        "status": conversation.status,
        "priority": conversation.priority,
        "sentiment": conversation.sentiment,
        "started_at": conversation.started_at,
        "last_activity_at": conversation.last_activity_at,
        "message_count": conversation.message_count,
        "user": {
            "id": user.pk,
            "username": user.username,
            "phone_numbers": [
                mask_for(viewer, "phone", phone.phone_number) for phone in user.phone_numbers.all()
            ],
        },
        "messages": [
            console_message(message, viewer=viewer, revealed=revealed) for message in page.messages
        ],
        "has_earlier": page.has_more,
        "revealed": revealed,
        "masked_kinds": [kind for kind in PII_FULL_ACCESS if kind not in visible],
    }


def conversation_get(request: AuthedAPIRequest, conversation_id: int) -> Conversation:
    queryset = (
        conversations_of(request).select_related("user").prefetch_related("user__phone_numbers")
    )
    return get_object_or_404(queryset, pk=conversation_id)


ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class ConversationDetailView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    @extend_schema(
        responses={200: ConversationDetailSerializer, **ERRORS},
        summary="A conversation with its latest messages, masked",
        description="The text is masked for every role; reveal it with POST .../reveal. "
        "Each view is written to the access log.",
    )
    def get(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        conversation = conversation_get(request, conversation_id)
        access_record(
            request,
            action=Action.VIEW_CONVERSATION,
            resource_type="conversation",
            resource_id=conversation.pk,
        )
        return Response(conversation_detail(conversation, request=request, revealed=False))


class ConversationRevealView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    class RevealInputSerializer(serializers.Serializer):
        justification = serializers.CharField(
            max_length=JUSTIFICATION_MAX,
            help_text="Why you need to see it, kept in the access log (a ticket, a request).",
        )

    @extend_schema(
        request=RevealInputSerializer,
        responses={200: ConversationDetailSerializer, 400: ErrorSerializer, **ERRORS},
        summary="The conversation with its personal data shown, for this response only",
        description="For roles that may see personal data (super admins, compliance "
        "officers), each seeing the kinds the PRD's masking table gives their role. Nothing "
        "is remembered: the next GET is masked again. Writes one access-log row with the "
        "justification.",
        parameters=[OpenApiParameter("conversation_id", int, OpenApiParameter.PATH)],
    )
    def post(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        conversation = conversation_get(request, conversation_id)
        if not may_reveal(request.user):
            raise PermissionDenied("Your role may not see personal data.")
        serializer = self.RevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            justification = justification_clean(serializer.validated_data["justification"])
        except ValueError as error:
            raise ValidationError({"justification": [str(error)]}) from error
        access_record(
            request,
            action=Action.REVEAL_PII,
            resource_type="conversation",
            resource_id=conversation.pk,
            pii_accessed=True,
            justification=justification,
        )
        response = Response(conversation_detail(conversation, request=request, revealed=True))
        response["Cache-Control"] = "no-store"
        return response


class TakesOver(BasePermission):
    """Super and support admins answer people; read-only and compliance roles only watch."""

    message = "Your role may not take conversations over."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.user.has_perm("channels_app.change_conversation")


class TakeoverOutputSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    status = serializers.CharField()
    human_operator = serializers.CharField(allow_null=True)
    message = ConsoleMessageSerializer(help_text="What the person was sent.")


TAKEOVER_ERRORS = {**ERRORS, 409: ErrorSerializer}


class TakeoverConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def takeover_answer(
    request: AuthedAPIRequest, conversation: Conversation, message: Message, action: str
) -> Response:
    conversation.refresh_from_db()
    access_record(
        request,
        action=action,
        resource_type="conversation",
        resource_id=conversation.pk,
        pii_accessed=False,
    )
    message.conversation = conversation
    return Response(
        {
            "conversation_id": conversation.pk,
            "status": conversation.status,
            "human_operator": (
                conversation.human_operator.username if conversation.human_operator else None
            ),
            "message": console_message(message, viewer=request.user),
        }
    )


class TakeoverView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations, TakesOver]

    @extend_schema(
        request=None,
        responses={200: TakeoverOutputSerializer, **TAKEOVER_ERRORS},
        summary="Take the conversation from the bot",
        description="The bot goes quiet on it (no reply, no approval drafted) and the person is "
        "told who joined. 409 when someone already has it.",
    )
    def post(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        conversation = conversation_get(request, conversation_id)
        try:
            sent = conversation_takeover(conversation=conversation, operator=request.user)
        except TakeoverRefused as refused:
            raise TakeoverConflict(str(refused)) from refused
        return takeover_answer(request, conversation, sent, Action.TAKEOVER)


class HumanReplyView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations, TakesOver]

    class HumanReplyInputSerializer(serializers.Serializer):
        message = serializers.CharField(max_length=HUMAN_REPLY_MAX)

    @extend_schema(
        request=HumanReplyInputSerializer,
        responses={200: TakeoverOutputSerializer, 400: ErrorSerializer, **TAKEOVER_ERRORS},
        summary="Reply to the person as yourself",
        description="Sent on the person's channel, labelled with your name. WhatsApp's 24-hour "
        "rule applies (the approved template outside it). 409 unless you took it over.",
    )
    def post(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        conversation = conversation_get(request, conversation_id)
        serializer = self.HumanReplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sent = conversation_human_reply(
                conversation=conversation,
                operator=request.user,
                text=serializer.validated_data["message"],
            )
        except TakeoverRefused as refused:
            raise TakeoverConflict(str(refused)) from refused
        return takeover_answer(request, conversation, sent, Action.HUMAN_REPLY)


class HandbackView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations, TakesOver]

    @extend_schema(
        request=None,
        responses={200: TakeoverOutputSerializer, **TAKEOVER_ERRORS},
        summary="Give the conversation back to the bot",
        description="The person is told; the bot answers their next message. 409 when nobody "
        "has taken it over.",
    )
    def post(self, request: AuthedAPIRequest, conversation_id: int) -> Response:
        conversation = conversation_get(request, conversation_id)
        try:
            sent = conversation_handback(conversation=conversation, operator=request.user)
        except TakeoverRefused as refused:
            raise TakeoverConflict(str(refused)) from refused
        return takeover_answer(request, conversation, sent, Action.HANDBACK)


# --- the list, search and stats -----------------------------------------------------------


class ConversationFilterSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    agent_type = serializers.ChoiceField(choices=AgentType.choices, required=False)
    user_id = IdField(required=False)
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    sentiment = serializers.ChoiceField(choices=Conversation.Sentiment.choices, required=False)
    date_from = serializers.DateTimeField(required=False, help_text="Active since (ISO 8601)")
    date_to = serializers.DateTimeField(required=False, help_text="Started before (ISO 8601)")
    min_messages = serializers.IntegerField(
        required=False, min_value=0, max_value=MESSAGE_COUNT_MAX
    )
    max_messages = serializers.IntegerField(
        required=False, min_value=0, max_value=MESSAGE_COUNT_MAX
    )
    action_type = serializers.CharField(required=False, max_length=64)
    pending_approval = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(
        required=False,
        max_length=SEARCH_MAX,
        help_text='Words (all must match), "a phrase", a phone number or an email',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            attrs.get("date_from")
            and attrs.get("date_to")
            and attrs["date_from"] >= attrs["date_to"]
        ):
            raise ValidationError({"date_to": ["Must be after date_from."]})
        low, high = attrs.get("min_messages"), attrs.get("max_messages")
        if low is not None and high is not None and low > high:
            raise ValidationError({"max_messages": ["Must be at least min_messages."]})
        return attrs


class ConversationRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.DictField(help_text="id, username, phone (masked per role)")
    channel = serializers.CharField()
    agent_type = serializers.CharField()
    message_count = serializers.IntegerField()
    status = serializers.CharField()
    priority = serializers.CharField()
    sentiment = serializers.CharField()
    started_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    last_message = serializers.DictField(help_text="preview (masked), sender_kind, at")
    has_pending_approval = serializers.BooleanField()
    priority_since = serializers.DateTimeField(allow_null=True)
    human_operator = serializers.CharField(allow_null=True)


class ConversationPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ConversationRowSerializer(many=True)


class ConversationCursor(CursorPagination):
    # The newest activity first, by cursor: no count of every conversation.
    ordering = ("-last_activity_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


ConversationPageQuerySerializer = cursor_page_query(
    "ConversationPageQuerySerializer", ConversationCursor, "Conversations"
)


def filters_of(data: Any) -> ConversationFilters:
    serializer = ConversationFilterSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return ConversationFilters(**serializer.validated_data)


class ConversationListView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]
    pagination_class = ConversationCursor

    @extend_schema(
        parameters=[
            ConversationFilterSerializer,
            ConversationPageQuerySerializer,
        ],
        operation_id="v1_admin_conversations_list",
        responses={200: ConversationPageSerializer, 400: ErrorSerializer, **ERRORS},
        summary="The tenant's conversations on every channel, newest activity first",
        description="Previews are masked for every role. Each call is written to the access "
        "log (a search when `q` is given).",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        filters = filters_of(request.query_params)
        ConversationPageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        tenant = tenant_of(request.user)
        conversations = with_list_columns(
            conversations_filtered(Conversation.objects.all(), tenant_id=tenant.pk, filters=filters)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(conversations, request, view=self) or []
        access_record(
            request,
            action=Action.SEARCH_CONVERSATIONS if filters.q else Action.VIEW_CONVERSATION,
            resource_type="conversation_list",
        )
        return paginator.get_paginated_response(conversation_rows(page, viewer=request.user))


class ConversationSearchView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    class SearchInputSerializer(serializers.Serializer):
        query = serializers.CharField(max_length=SEARCH_MAX, allow_blank=True)
        filters = serializers.DictField(required=False, default=dict)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=25)

    class SearchOutputSerializer(serializers.Serializer):
        total = serializers.IntegerField(
            help_text=f"Conversations found, counted up to {SEARCH_TOTAL_MAX:,}"
        )
        total_exact = serializers.BooleanField(
            help_text=f"False when more than {SEARCH_TOTAL_MAX:,} were found"
        )
        conversations = ConversationRowSerializer(many=True)
        query = serializers.CharField()
        filters_applied = serializers.DictField()

    @extend_schema(
        request=SearchInputSerializer,
        responses={200: SearchOutputSerializer, 400: ErrorSerializer, **ERRORS},
        summary="Search what was written, with the list's filters",
        description="Every word must match; quote a phrase; a phone number or an email finds "
        "it however it was written. Bodies stay encrypted: the search reads a keyed token "
        "index. Written to the access log.",
    )
    def post(self, request: AuthedAPIRequest) -> Response:
        body = self.SearchInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filters = filters_of({**body.validated_data["filters"], "q": body.validated_data["query"]})
        tenant = tenant_of(request.user)
        conversations = conversations_filtered(
            Conversation.objects.all(), tenant_id=tenant.pk, filters=filters
        )
        rows = list(
            with_list_columns(conversations).order_by("-last_activity_at", "-id")[
                : body.validated_data["limit"]
            ]
        )
        access_record(
            request, action=Action.SEARCH_CONVERSATIONS, resource_type="conversation_list"
        )
        # Counted as far as anyone reads a number: a common word is in most conversations.
        total = conversations.order_by()[: SEARCH_TOTAL_MAX + 1].count()
        return Response(
            {
                "total": min(total, SEARCH_TOTAL_MAX),
                "total_exact": total <= SEARCH_TOTAL_MAX,
                "conversations": conversation_rows(rows, viewer=request.user),
                "query": body.validated_data["query"],
                "filters_applied": filters.applied(),
            }
        )


class PriorityQueueView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    class PriorityQueueQuerySerializer(serializers.Serializer):
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=QUEUE_MAX, default=50
        )

    class PriorityQueueOutputSerializer(serializers.Serializer):
        conversations = ConversationRowSerializer(many=True)

    @extend_schema(
        parameters=[PriorityQueueQuerySerializer],
        responses={200: PriorityQueueOutputSerializer, 400: ErrorSerializer, **ERRORS},
        summary="The priority queue: urgent, then high, then the longest waiting",
        description="Open conversations whose priority (computed from what the person wrote: "
        "sentiment, urgency, money lost, something broken, a human or a budget or deletion "
        "asked for) is high or urgent.",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        query = self.PriorityQueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        size = query.validated_data["limit"]
        tenant = tenant_of(request.user)
        queue = priority_queue(Conversation.objects.filter(tenant=tenant, is_deleted=False))
        rows = list(with_list_columns(queue)[:size])
        access_record(request, action=Action.VIEW_CONVERSATION, resource_type="conversation_list")
        return Response({"conversations": conversation_rows(rows, viewer=request.user)})


class ConversationStatsView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        summary="Counts of the tenant's conversations by status, channel and priority",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        tenant = tenant_of(request.user)
        conversations = Conversation.objects.filter(tenant=tenant, is_deleted=False)

        def counted(field: str) -> dict[str, int]:
            return dict(
                conversations.order_by()
                .values_list(field)
                .annotate(n=Count("id"))
                .values_list(field, "n")
            )

        return Response(
            {
                "total": conversations.count(),
                "by_status": counted("status"),
                "by_channel": counted("channel"),
                "by_priority": counted("priority"),
                "with_pending_approval": conversations.filter(
                    Exists(
                        Approval.objects.filter(
                            conversation=OuterRef("pk"), status__in=OPEN_STATUSES
                        )
                    )
                ).count(),
                "held_by_humans": conversations.filter(status=Conversation.Status.HUMAN).count(),
            }
        )
