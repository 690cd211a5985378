"""WhatsApp endpoints: Twilio's webhook and status callback (signed, no user), and the console's
send and conversation list (session or token, tenant-scoped).

With ENABLE_WHATSAPP off, the webhook, the status callback and the send answer 503
`{"error": "disabled"}` and store nothing: the endpoint exists but the integration is switched
off here, which Twilio's debugger then shows as an error instead of a silent 404. The list of
stored conversations keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasTenant, tenant_of
from accounts.types import AuthedAPIRequest
from channels_app.inbound import InboundMedia
from channels_app.models import Channel, Conversation, Message
from channels_app.selectors import message_text
from channels_app.whatsapp.services import (
    MAX_MESSAGE_CHARS,
    WhatsAppInbound,
    delivery_status_update,
    recipient_find,
    whatsapp_admin_send,
    whatsapp_inbound_process,
)
from channels_app.whatsapp.signature import TwilioSignature
from channels_app.whatsapp.transport import MAX_MEDIA
from engarde.errors import ErrorSerializer, ServiceDisabled
from privacy.access_log import Action, access_records
from privacy.reveal import mask_for

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Refusals the transport decides itself, before calling Twilio: the conversation's state, not
# Twilio, is in the way. Anything else is Twilio refusing or failing (502).
CONFLICTS = frozenset({"opted_out", "outside_window", "no_number", "too_many_media"})


WHATSAPP_DISABLED = "WhatsApp is switched off on this server (ENABLE_WHATSAPP)."


class AnyAcceptNegotiation(DefaultContentNegotiation):
    """Twilio's Accept header is no reason to refuse its webhook: always the first renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


class SwitchedAPIView(APIView):
    def check_permissions(self, request: Request) -> None:
        # Before the signature: with the switch off there may be no token to check it with.
        if not settings.ENABLE_WHATSAPP:
            raise ServiceDisabled(WHATSAPP_DISABLED)
        super().check_permissions(request)


# What Twilio posts is a person's phone number and message text: an error report about one of
# these requests shows none of its parameters.
@method_decorator(sensitive_post_parameters(), name="dispatch")
class TwilioAPIView(SwitchedAPIView):
    authentication_classes: list[Any] = []
    permission_classes = [TwilioSignature]
    # Never throttled: Twilio posts from its own few servers, and a refused call is a lost or
    # retried message; the signature is what keeps anyone else out.
    throttle_classes: list[Any] = []
    # Twilio posts form-encoded; multipart is the same form (and what Django's test client sends).
    parser_classes = [FormParser, MultiPartParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAcceptNegotiation


TWILIO_ERRORS = {
    400: ErrorSerializer,
    403: OpenApiResponse(ErrorSerializer, description="Missing or forged signature."),
    503: OpenApiResponse(
        ErrorSerializer,
        description="ENABLE_WHATSAPP is off, or the database is unavailable (nothing stored).",
    ),
}


class WebhookView(TwilioAPIView):
    class WhatsAppWebhookInputSerializer(serializers.Serializer):
        From = serializers.CharField(max_length=64, help_text="whatsapp:+14155550101")
        To = serializers.CharField(max_length=64, required=False, allow_blank=True)
        Body = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=False, default=""
        )
        MessageSid = serializers.CharField(max_length=64)
        NumMedia = serializers.IntegerField(required=False, default=0, min_value=0)
        ProfileName = serializers.CharField(
            required=False, allow_blank=True, help_text="Accepted, never stored (a name is PII)."
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            attrs.pop("ProfileName", None)
            attrs["media"] = tuple(
                InboundMedia(
                    url=self.initial_data[f"MediaUrl{n}"],
                    content_type=self.initial_data.get(f"MediaContentType{n}", ""),
                )
                for n in range(min(attrs["NumMedia"], MAX_MEDIA))
                if self.initial_data.get(f"MediaUrl{n}")
            )
            return attrs

    @extend_schema(
        request=WhatsAppWebhookInputSerializer,
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="Empty TwiML."),
            **TWILIO_ERRORS,
        },
        auth=[],
        summary="Twilio's incoming-message webhook",
        description="Signed by Twilio (X-Twilio-Signature). Also reads MediaUrlN and "
        "MediaContentTypeN for N below NumMedia (at most 10); other parameters are accepted. "
        "Answers at once; the agents' reply follows through the REST API.",
    )
    def post(self, request: Request) -> HttpResponse:
        serializer = self.WhatsAppWebhookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        whatsapp_inbound_process(
            inbound=WhatsAppInbound(
                sender=data["From"],
                provider_id=data["MessageSid"],
                text=data["Body"],
                media=data["media"],
            )
        )
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


class StatusCallbackView(TwilioAPIView):
    class WhatsAppStatusInputSerializer(serializers.Serializer):
        MessageSid = serializers.CharField(max_length=64)
        MessageStatus = serializers.CharField(
            max_length=32, help_text="queued, sending, sent, delivered, read, failed, undelivered"
        )
        ErrorCode = serializers.CharField(
            required=False, allow_blank=True, max_length=32, default=""
        )
        ErrorMessage = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        request=WhatsAppStatusInputSerializer,
        responses={204: OpenApiResponse(description="Applied, stale or unknown."), **TWILIO_ERRORS},
        auth=[],
        summary="Twilio's message status callback",
        description="Moves the message's status forward only (queued, sent, delivered, read; "
        "failed is final and never replaces delivered or read). An unknown MessageSid is "
        "acknowledged too, so that Twilio does not retry it.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.WhatsAppStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delivery_status_update(
            provider_id=data["MessageSid"],
            provider_status=data["MessageStatus"],
            error_code=data["ErrorCode"],
            error_message=data["ErrorMessage"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SendView(SwitchedAPIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class WhatsAppSendInputSerializer(serializers.Serializer):
        to = serializers.CharField(
            max_length=40,
            help_text="A user id, or the WhatsApp number (E.164) of a user of your workspace.",
        )
        message = serializers.CharField(max_length=MAX_MESSAGE_CHARS)

    class WhatsAppSendOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        conversation_id = serializers.IntegerField()
        status = serializers.CharField(source="delivery_status")
        provider_id = serializers.CharField(allow_null=True)

    class WhatsAppSendErrorSerializer(serializers.Serializer):
        error = serializers.CharField(help_text="The reason: outside_window, opted_out, ...")
        detail = serializers.CharField()
        message_id = serializers.IntegerField(help_text="The failed message, as recorded.")

    @extend_schema(
        request=WhatsAppSendInputSerializer,
        responses={
            201: WhatsAppSendOutputSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                WhatsAppSendErrorSerializer,
                description="Not sendable now: outside the 24-hour window with no template, "
                "opted out, no verified number.",
            ),
            502: OpenApiResponse(WhatsAppSendErrorSerializer, description="Twilio refused."),
            503: ErrorSerializer,
        },
        summary="Send a WhatsApp message to a user as a person of the console",
        description="Needs the permission to change conversations. The message is stored in "
        "the user's WhatsApp conversation whether or not it could be sent.",
    )
    def post(self, request: AuthedAPIRequest) -> Response:
        if not request.user.has_perm("channels_app.change_conversation"):
            raise PermissionDenied("Your role may not write to conversations.")
        serializer = self.WhatsAppSendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recipient = recipient_find(
            tenant=tenant_of(request.user), to=serializer.validated_data["to"].strip()
        )
        if recipient is None:
            raise NotFound("No such user in your workspace.")
        message = whatsapp_admin_send(
            sender=request.user, recipient=recipient, text=serializer.validated_data["message"]
        )
        if message.delivery_status == Message.DeliveryStatus.FAILED:
            return Response(
                {
                    "error": message.error_code,
                    "detail": message.error_message,
                    "message_id": message.pk,
                },
                status=(
                    status.HTTP_409_CONFLICT
                    if message.error_code in CONFLICTS
                    else status.HTTP_502_BAD_GATEWAY
                ),
            )
        return Response(
            self.WhatsAppSendOutputSerializer(message).data, status=status.HTTP_201_CREATED
        )


class WhatsAppMediaSerializer(serializers.Serializer):
    url = serializers.CharField(
        help_text="Empty: media is personal data, shown only in a revealed conversation "
        "(POST /api/v1/admin/conversations/{id}/reveal)."
    )
    content_type = serializers.CharField()


class WhatsAppMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.CharField()
    sender_kind = serializers.CharField()
    body = serializers.SerializerMethodField()
    media = serializers.SerializerMethodField()
    delivery_status = serializers.CharField()
    provider_id = serializers.CharField(allow_null=True)
    agent_type = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    error_code = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_body(self, message: Message) -> str:
        return message_text(message, viewer=self.context["viewer"])

    @extend_schema_field(WhatsAppMediaSerializer(many=True))
    def get_media(self, message: Message) -> list[dict[str, str]]:
        return [
            {
                "url": "",
                "content_type": item.get("content_type", ""),
            }
            for item in (message.metadata or {}).get("media", [])
        ]


class WhatsAppConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    current_agent_type = serializers.CharField()
    started_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    message_count = serializers.IntegerField()
    messages = WhatsAppMessageSerializer(many=True)


class WhatsAppUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    phone_numbers = serializers.SerializerMethodField(help_text="Masked without view_pii.")

    def get_phone_numbers(self, user: User) -> list[str]:
        viewer = self.context["viewer"]
        return [mask_for(viewer, "phone", phone.phone_number) for phone in user.phone_numbers.all()]


class ConversationPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class ConversationPageQuerySerializer(serializers.Serializer):
    """Checked before the paginator, which would take a page size over its maximum as the
    maximum: past it is a 400, as for every other input."""

    # Far more pages than one person has conversations, even at one a page.
    page = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000, help_text="1-based"
    )
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=ConversationPagination.max_page_size,
        help_text=f"Conversations a page (default {ConversationPagination.page_size})",
    )


class ConversationsView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]
    pagination_class = ConversationPagination

    class WhatsAppConversationPageSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        user = WhatsAppUserSerializer()
        results = WhatsAppConversationSerializer(many=True)

    @extend_schema(
        parameters=[ConversationPageQuerySerializer],
        responses={
            200: WhatsAppConversationPageSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="A user's WhatsApp conversations with their messages, newest first",
        description="Conversation text is masked for every role (reveal one conversation with "
        "a justification through POST /api/v1/admin/conversations/{id}/reveal); the user's "
        "numbers are masked for roles that may not see personal data. Each conversation "
        "returned is written to the access log.",
    )
    def get(self, request: AuthedAPIRequest, user_id: int) -> Response:
        if not request.user.has_perm("channels_app.view_conversation"):
            raise PermissionDenied("Your role may not see conversations.")
        ConversationPageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        tenant = request.user.tenant
        user = get_object_or_404(
            User.objects.for_tenant(tenant).prefetch_related("phone_numbers"), pk=user_id
        )
        conversations = (
            Conversation.objects.for_tenant(tenant)
            .filter(user=user, channel=Channel.WHATSAPP, is_deleted=False)
            .order_by("-last_activity_at", "-id")
            .prefetch_related(
                Prefetch("messages", queryset=Message.objects.order_by("created_at", "id"))
            )
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(conversations, request, view=self)
        context = {"viewer": request.user}
        access_records(
            request,
            action=Action.VIEW_CONVERSATION,
            resource_type="conversation",
            resource_ids=[conversation.pk for conversation in page or []],
        )
        return Response(
            {
                "count": paginator.page.paginator.count if paginator.page else 0,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "user": WhatsAppUserSerializer(user, context=context).data,
                "results": WhatsAppConversationSerializer(page, many=True, context=context).data,
            }
        )
