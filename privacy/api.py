"""A person's own GDPR requests: their data as a JSON file (art. 15/20), and erasure (art. 17)."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasTenant
from accounts.types import AuthedAPIRequest
from engarde.errors import ErrorSerializer
from privacy.export import export_filename
from privacy.services import ErasureRefused, data_export_now, user_erase

DELETE_CONFIRMATION = "DELETE MY ACCOUNT"


class ExportDataView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="An attachment, `engarde_data_export_{id}_{YYYYMMDD}.json`: "
                "`sections` holds one list per kind of data (profile, phone numbers, "
                "conversations with their messages, agent runs, approvals, email preferences "
                "and sends, consents, bookmarks, ...).",
            ),
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        summary="Everything En Garde holds about the caller, as a JSON file",
    )
    def get(self, request: AuthedAPIRequest) -> HttpResponse:
        user = request.user
        payload = data_export_now(user=user)
        response = HttpResponse(payload, content_type="application/json; charset=utf-8")
        filename = export_filename(user_id=user.pk, at=timezone.now())
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class DeleteAccountView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class DeleteAccountInputSerializer(serializers.Serializer):
        confirmation = serializers.CharField(
            trim_whitespace=False, help_text=f'Exactly "{DELETE_CONFIRMATION}".'
        )

        def validate_confirmation(self, value: str) -> str:
            if value != DELETE_CONFIRMATION:
                raise serializers.ValidationError(
                    f'Type exactly "{DELETE_CONFIRMATION}" to confirm; nothing was erased.'
                )
            return value

    class DeleteAccountOutputSerializer(serializers.Serializer):
        erased = serializers.BooleanField()
        data_request_id = serializers.IntegerField()

    @extend_schema(
        responses={
            200: DeleteAccountOutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="`fields.confirmation` says what to type."
            ),
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        summary="Erase the caller's account and personal data",
        # The schema generator documents no body for a DELETE: the description gives it.
        description=f'Body: `{{"confirmation": "{DELETE_CONFIRMATION}"}}`, exactly. '
        "In one transaction: messages anonymised (counts and timestamps stay), "
        "phone numbers deleted, name and email blanked, username replaced, password, API "
        "tokens and sessions revoked. It cannot be undone.",
    )
    def delete(self, request: AuthedAPIRequest) -> Response:
        serializer = self.DeleteAccountInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        try:
            data_request = user_erase(
                user=user, requested_by=user, reason="Asked by the person (delete-account API)."
            )
        except ErasureRefused as refused:
            raise PermissionDenied(str(refused)) from refused
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Its row is gone already; this also drops the cookie.
            logout(request._request)
        return Response(
            self.DeleteAccountOutputSerializer(
                {"erased": True, "data_request_id": data_request.pk}
            ).data
        )
