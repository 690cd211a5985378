"""The console's conversation APIs (`/api/v1/admin/conversations/...`): tenant-scoped, the text
masked for every role unless revealed with a justification, each view in the access log."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasTenant, tenant_of
from accounts.roles import PII_FULL_ACCESS
from accounts.types import AuthedAPIRequest
from channels_app.models import Conversation
from channels_app.selectors import message_page, message_text
from engarde.errors import ErrorSerializer
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
            {
                "id": message.pk,
                "direction": message.direction,
                "sender_kind": message.sender_kind,
                "text": message_text(message, viewer=viewer, revealed=revealed),
                "agent_type": message.agent_type,
                "confidence": message.confidence,
                "delivery_status": message.delivery_status,
                "created_at": message.created_at,
            }
            for message in page.messages
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
