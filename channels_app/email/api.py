"""The email API (PRD: /api/v1/channels/email/...). A person reads and changes their own
preferences and sends themselves their brief; staff do it for the people of their workspace
with the matching model permission. Another workspace's user id answers 404.

With ENABLE_EMAIL_BRIEFS off, sending answers 503 `{"error": "disabled"}`; preferences, the
unsubscribe and the tracking webhooks keep working, so nobody is stuck subscribed.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasTenant, tenant_of
from accounts.types import AuthedAPIRequest
from channels_app.email.backends import EmailRejected
from channels_app.email.models import (
    DigestFormat,
    EmailPreferences,
    Frequency,
    Priority,
    Section,
)
from channels_app.email.render import TEMPLATES
from channels_app.email.selectors import engagement_by_day
from channels_app.email.sending import brief_send_now, custom_email_send
from channels_app.email.services import preferences_default, preferences_update, unsubscribe
from channels_app.email.tokens import UNSUBSCRIBE, BadToken, token_user_id
from engarde.errors import ErrorSerializer, ServiceDisabled
from engarde.parsers import JSONParser
from privacy.fields import email_index
from privacy.masking import mask_email
from privacy.models import ConsentRecord
from privacy.reveal import can_view_pii

HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The PRD's names in the API; the model's where they differ.
API_TO_MODEL = {"timezone": "time_zone", "include_sections": "sections"}
MODEL_TO_API = {model: api for api, model in API_TO_MODEL.items()}
MAX_ENGAGEMENT_DAYS = 92
# Our signed tokens (tokens.py) are under 100 characters.
TOKEN_MAX = 200
WEEKDAY_ERROR = "%(value)s is not a weekday: 0 is Monday, 6 is Sunday."


EMAIL_DISABLED = "Email briefs are switched off on this server (ENABLE_EMAIL_BRIEFS)."


def _switched_on() -> None:
    if not settings.ENABLE_EMAIL_BRIEFS:
        raise ServiceDisabled(EMAIL_DISABLED)


def target_user(request: AuthedAPIRequest, user_id: int, permission: str) -> User:
    """A user of the caller's workspace: themselves, or anyone with the permission."""
    user = (
        User.objects.for_tenant(request.user.tenant)
        .select_related("tenant")
        .filter(pk=user_id, is_deleted=False)
        .first()
    )
    if user is None:
        raise NotFound("No such user in your workspace.")
    if user.pk != request.user.pk and not request.user.has_perm(permission):
        raise PermissionDenied("Your role may not do this for other people.")
    return user


# Preferences


def _choices(choices: Any) -> str:
    return ", ".join(choices.values)


def _choice_field(choices: Any, what: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=choices.choices,
        required=False,
        error_messages={
            "invalid_choice": f"“{{input}}” is not a {what}: choose {_choices(choices)}."
        },
    )


class PreferencesInputSerializer(serializers.Serializer):
    """Any subset of the preferences: what is left out keeps its value."""

    enabled = serializers.BooleanField(required=False)
    delivery_time = serializers.CharField(
        required=False, max_length=len("HH:MM"), help_text="Local time, HH:MM (24 h)."
    )
    timezone = serializers.CharField(
        required=False,
        max_length=64,  # the column's (EmailPreferences.time_zone)
        help_text="IANA name: America/New_York.",
    )
    frequency = _choice_field(Frequency, "frequency")
    # Django's range validators pass the value to the message (`%(value)s`).
    weekday = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=6,
        error_messages={"min_value": WEEKDAY_ERROR, "max_value": WEEKDAY_ERROR},
        help_text="Weekly: 0 is Monday, 6 is Sunday.",
    )
    custom_days = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        max_length=7,
        help_text="Custom: weekdays, 0 is Monday.",
    )
    include_sections = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        max_length=len(Section.values),
        help_text=_choices(Section),
    )
    min_priority = _choice_field(Priority, "priority")
    digest_format = _choice_field(DigestFormat, "digest format")
    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="Empty: the account's address.",
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {
                        name: [f"Not a preference; the preferences are {', '.join(self.fields)}."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)

    def validate_delivery_time(self, value: str) -> time:
        match = HH_MM.match(value.strip())
        if not match:
            raise ValidationError(
                f"“{value}” is not a time of day: use HH:MM, from 00:00 to 23:59."
            )
        return time(int(match.group(1)), int(match.group(2)))

    def validate_timezone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise ValidationError(
                f"“{value}” is not an IANA time zone name (for example America/New_York)."
            )
        return value

    def validate_custom_days(self, value: list[Any]) -> list[int]:
        wrong = [
            d for d in value if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6
        ]
        if wrong:
            raise ValidationError(
                f"{', '.join(map(str, wrong))}: not weekdays; 0 is Monday, 6 is Sunday."
            )
        return sorted(set(value))

    def validate_include_sections(self, value: list[Any]) -> list[str]:
        wrong = [s for s in value if s not in Section.values]
        if wrong:
            names = ", ".join(f"“{s}”" for s in wrong)
            raise ValidationError(
                f"{names} {'is not a section' if len(wrong) == 1 else 'are not sections'}: "
                f"choose from {_choices(Section)}."
            )
        return [s for s in Section.values if s in value]  # in the brief's order, once each


class PreferencesOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    subscribed = serializers.BooleanField(help_text="Whether the preferences were ever saved.")
    enabled = serializers.BooleanField()
    delivery_time = serializers.CharField()
    timezone = serializers.CharField()
    frequency = serializers.CharField()
    weekday = serializers.IntegerField(allow_null=True)
    custom_days = serializers.ListField(child=serializers.IntegerField())
    include_sections = serializers.ListField(child=serializers.CharField())
    min_priority = serializers.CharField()
    digest_format = serializers.CharField()
    email = serializers.CharField(help_text="Masked for roles that may not see personal data.")
    email_is_account_address = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    next_send_at = serializers.DateTimeField(allow_null=True)


def preferences_output(preferences: EmailPreferences, viewer: User) -> dict[str, Any]:
    address = preferences.address
    if viewer.pk != preferences.user_id and not can_view_pii(viewer):
        address = mask_email(address)
    return PreferencesOutputSerializer(
        {
            "user_id": preferences.user_id,
            "subscribed": preferences.pk is not None,
            "enabled": preferences.enabled,
            "delivery_time": preferences.delivery_time.strftime("%H:%M"),
            "timezone": preferences.time_zone,
            "frequency": preferences.frequency,
            "weekday": preferences.weekday,
            "custom_days": preferences.custom_days,
            "include_sections": preferences.sections,
            "min_priority": preferences.min_priority,
            "digest_format": preferences.digest_format,
            "email": address,
            "email_is_account_address": not preferences.email,
            "disabled_reason": preferences.disabled_reason,
            "next_send_at": preferences.next_send_at,
        }
    ).data


class PreferencesView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    @extend_schema(
        responses={200: PreferencesOutputSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        summary="A person's email brief preferences",
        description="Without saved preferences: the defaults, `subscribed` and `enabled` false.",
    )
    def get(self, request: AuthedAPIRequest, user_id: int) -> Response:
        user = target_user(request, user_id, "channels_app.view_emailpreferences")
        preferences = EmailPreferences.objects.filter(user=user).first() or preferences_default(
            user
        )
        return Response(preferences_output(preferences, request.user))

    @extend_schema(
        request=PreferencesInputSerializer,
        responses={
            200: PreferencesOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="`fields` names each bad value."),
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="Change a person's email brief preferences",
        description="Any subset of the fields; the first save subscribes (enabled defaults to "
        "true) and the next brief is scheduled from the delivery time in the time zone.",
    )
    def put(self, request: AuthedAPIRequest, user_id: int) -> Response:
        user = target_user(request, user_id, "channels_app.change_emailpreferences")
        serializer = PreferencesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = {API_TO_MODEL.get(k, k): v for k, v in serializer.validated_data.items()}
        try:
            preferences = preferences_update(
                user=user,
                now=timezone.now(),
                consent_source=ConsentRecord.Source.SETTINGS
                if user.pk == request.user.pk
                else ConsentRecord.Source.ADMIN,
                **changes,
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise ValidationError(
                    {MODEL_TO_API.get(k, k): v for k, v in exc.message_dict.items()}
                ) from exc
            raise ValidationError(exc.messages) from exc
        return Response(preferences_output(preferences, request.user))


# Sending


class SendDailyBriefView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class DailyBriefOutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(["sent", "skipped"])
        reason = serializers.CharField(
            required=False,
            help_text="skipped: user_disabled, not_subscribed, already_sent, no_email, "
            "user_inactive, agent_disabled",
        )
        send_id = serializers.IntegerField(required=False)
        message_id = serializers.CharField(required=False)
        esp = serializers.CharField(required=False)
        failed_over = serializers.BooleanField(required=False)

    @extend_schema(
        request=None,
        responses={
            200: DailyBriefOutputSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            502: OpenApiResponse(ErrorSerializer, description="No ESP took it, or it refused it."),
            503: ErrorSerializer,
        },
        summary="Send a person today's brief now",
        description="Today in the person's time zone. Idempotent: a second call the same day "
        "answers skipped/already_sent. Respects `enabled` (skipped/user_disabled).",
    )
    def post(self, request: AuthedAPIRequest, user_id: int) -> Response:
        _switched_on()
        user = target_user(request, user_id, "channels_app.add_emailsend")
        outcome = brief_send_now(user=user, now=timezone.now())
        if outcome.status == "skipped":
            return Response({"status": "skipped", "reason": outcome.reason})
        send = outcome.send
        assert send is not None
        if outcome.status == "failed":
            return Response(
                {
                    "error": send.error_code or "failed",
                    "detail": send.error_message or "The brief could not be sent.",
                    "status": "failed",
                    "send_id": send.pk,
                },
                status=status.HTTP_502_BAD_GATEWAY,
            )
        return Response(
            {
                "status": "sent",
                "send_id": send.pk,
                "message_id": send.esp_message_id,
                "esp": send.esp,
                "failed_over": send.failed_over,
            }
        )


CUSTOM_TEMPLATES = [name for name, template in TEMPLATES.items() if template.custom]


class SendView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class EmailSendInputSerializer(serializers.Serializer):
        to = serializers.CharField(
            max_length=254, help_text="A user id, or the email address of a user of your workspace."
        )
        subject = serializers.CharField(max_length=200)
        body = serializers.CharField(
            max_length=20_000, help_text="Plain text; blank lines part paragraphs."
        )
        template = serializers.ChoiceField(
            choices=CUSTOM_TEMPLATES,
            required=False,
            default="custom_message",
            error_messages={
                "invalid_choice": "“{input}” is not a template for custom emails: use "
                + ", ".join(CUSTOM_TEMPLATES)
                + "."
            },
        )

    class EmailSendOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        esp = serializers.CharField()
        message_id = serializers.CharField(source="esp_message_id")
        failed_over = serializers.BooleanField()

    @extend_schema(
        request=EmailSendInputSerializer,
        responses={
            201: EmailSendOutputSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description="No address, or it bounced or complained."
            ),
            502: OpenApiResponse(ErrorSerializer, description="No ESP took it, or it refused it."),
            503: ErrorSerializer,
        },
        summary="Send a custom email to a person of your workspace",
        description="Needs the permission to add email sends. Logged and tracked like briefs.",
    )
    def post(self, request: AuthedAPIRequest) -> Response:
        _switched_on()
        if not request.user.has_perm("channels_app.add_emailsend"):
            raise PermissionDenied("Your role may not send emails.")
        serializer = self.EmailSendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recipient = self._recipient(request, data["to"].strip())
        try:
            send = custom_email_send(
                sender=request.user,
                recipient=recipient,
                subject=data["subject"],
                body=data["body"],
                template=data["template"],
                now=timezone.now(),
            )
        except EmailRejected as exc:
            return Response(
                {"error": exc.code, "detail": str(exc)}, status=status.HTTP_409_CONFLICT
            )
        if send.status not in ("sent", "delivered"):
            return Response(
                {"error": send.error_code, "detail": send.error_message, "id": send.pk},
                status=status.HTTP_502_BAD_GATEWAY,
            )
        return Response(self.EmailSendOutputSerializer(send).data, status=status.HTTP_201_CREATED)

    def _recipient(self, request: AuthedAPIRequest, to: str) -> User:
        people = User.objects.for_tenant(request.user.tenant).filter(
            is_active=True, is_deleted=False
        )
        if to.isdecimal():
            found = people.filter(pk=int(to)).first()
        else:
            try:
                found = people.filter(email_hash=email_index(to)).first()
            except DjangoValidationError:
                found = None
        if found is None:
            raise NotFound("No such user in your workspace.")
        return found


class TemplatesView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class TemplateSerializer(serializers.Serializer):
        name = serializers.CharField()
        description = serializers.CharField()
        subject = serializers.CharField()
        variables = serializers.ListField(child=serializers.CharField())
        custom = serializers.BooleanField(help_text="Usable with POST send.")

    class TemplatesOutputSerializer(serializers.Serializer):
        templates = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses=TemplatesOutputSerializer, summary="The email templates")
    def get(self, request: AuthedAPIRequest) -> Response:
        return Response(
            {"templates": self.TemplateSerializer(list(TEMPLATES.values()), many=True).data}
        )


class UnsubscribeView(APIView):
    """No login: the signed token in the link is the proof. RFC 8058 one-click: mail clients POST
    `List-Unsubscribe=One-Click` (form-encoded) to the URL of the List-Unsubscribe header."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Never throttled: mailbox providers post one-click unsubscribes from a few shared addresses,
    # and a refused one is an unsubscribe lost; the signed token is the check.
    throttle_classes: list[Any] = []
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    class UnsubscribeOutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        changed = serializers.BooleanField(help_text="False when already unsubscribed.")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "token",
                {"type": "string", "maxLength": TOKEN_MAX},
                description="From the email's link.",
            )
        ],
        request=None,
        responses={
            200: UnsubscribeOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid_token or expired_token"),
        },
        auth=[],
        summary="Unsubscribe from the briefs (one-click, RFC 8058)",
    )
    def post(self, request: Request) -> Response:
        token = request.query_params.get("token") or (
            request.data.get("token") if hasattr(request.data, "get") else None
        )
        if not token or not isinstance(token, str):
            return Response(
                {"error": "invalid_token", "detail": "The unsubscribe token is missing."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(token) > TOKEN_MAX:
            return Response(
                {"error": "invalid_token", "detail": "This link is not valid."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            user_id = token_user_id(token, purpose=UNSUBSCRIBE)
        except BadToken as exc:
            return Response(
                {
                    "error": "expired_token" if exc.expired else "invalid_token",
                    "detail": exc.detail,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        user = User.objects.select_related("tenant").filter(pk=user_id).first()
        if user is None:
            raise NotFound("This person no longer exists.")
        source = "one_click" if request.data.get("List-Unsubscribe") == "One-Click" else "api"
        changed = unsubscribe(user=user, source=source)
        return Response({"status": "unsubscribed", "changed": changed})


class EngagementView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class EngagementDaySerializer(serializers.Serializer):
        date = serializers.DateField()
        sent = serializers.IntegerField()
        delivered = serializers.IntegerField()
        opened = serializers.IntegerField()
        clicked = serializers.IntegerField()
        bounced = serializers.IntegerField()
        open_rate = serializers.FloatField(allow_null=True)
        click_rate = serializers.FloatField(allow_null=True)
        bounce_rate = serializers.FloatField(allow_null=True)

    class EngagementOutputSerializer(serializers.Serializer):
        days = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": MAX_ENGAGEMENT_DAYS, "default": 14},
                description="The window, in days, today included.",
            )
        ],
        responses={200: EngagementOutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
        summary="Open, click and bounce rates per day (UTC) of the workspace's emails",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        if not request.user.has_perm("channels_app.view_emailsend"):
            raise PermissionDenied("Your role may not see email statistics.")
        raw = request.query_params.get("days", "14")
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_ENGAGEMENT_DAYS:
            raise ValidationError({"days": [f"A whole number from 1 to {MAX_ENGAGEMENT_DAYS}."]})
        end = timezone.now().date()
        start = end - timedelta(days=int(raw) - 1)
        days = engagement_by_day(tenant=tenant_of(request.user), start=start, end=end)
        return Response({"days": self.EngagementDaySerializer(days, many=True).data})
