"""`GET /api/v1/admin/access-log`: the access log for compliance officers and super admins."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasTenant, tenant_of
from accounts.types import AuthedAPIRequest
from engarde.errors import ErrorSerializer
from engarde.fields import IdField
from engarde.pagination import cursor_page_query
from privacy.access_log import Action, access_record
from privacy.models import AdminAccessLog


class ReadsAccessLog(BasePermission):
    message = "Only compliance officers and super admins read the access log."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.user.has_perm("privacy.view_adminaccesslog")


class AccessLogPagination(CursorPagination):
    # Newest first, by cursor: no count of a table that grows for seven years.
    ordering = ("-timestamp", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


AccessLogPageQuerySerializer = cursor_page_query(
    "AccessLogPageQuerySerializer", AccessLogPagination, "Entries"
)


class AccessLogEntrySerializer(serializers.ModelSerializer):
    admin_user = serializers.CharField(source="admin_user.username", allow_null=True)
    admin_user_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = AdminAccessLog
        fields = [
            "id",
            "timestamp",
            "admin_user_id",
            "admin_user",
            "action",
            "resource_type",
            "resource_id",
            "pii_accessed",
            "ip_hash",
            "user_agent",
            "justification",
        ]


class AccessLogFilterSerializer(serializers.Serializer):
    user = IdField(required=False, help_text="The staff member's id")
    action = serializers.ChoiceField(choices=Action.choices, required=False)
    resource_type = serializers.CharField(required=False, max_length=32)
    resource_id = serializers.CharField(required=False, max_length=64)
    date_from = serializers.DateTimeField(required=False, help_text="ISO 8601, inclusive")
    date_to = serializers.DateTimeField(required=False, help_text="ISO 8601, exclusive")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] >= attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["Must be after date_from."]})
        return attrs


class AccessLogPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AccessLogEntrySerializer(many=True)


def access_log_filtered(entries: QuerySet[AdminAccessLog], filters: dict[str, Any]) -> QuerySet:
    lookups = {
        "user": "admin_user_id",
        "action": "action",
        "resource_type": "resource_type",
        "resource_id": "resource_id",
        "date_from": "timestamp__gte",
        "date_to": "timestamp__lt",
    }
    return entries.filter(**{lookups[name]: value for name, value in filters.items()})


class AccessLogView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, ReadsAccessLog]
    pagination_class = AccessLogPagination

    @extend_schema(
        parameters=[
            AccessLogFilterSerializer,
            AccessLogPageQuerySerializer,
        ],
        responses={
            200: AccessLogPageSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        summary="The access log, newest first",
        description="Every read of a person's data by staff. Reading it is logged too.",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        filters = AccessLogFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        AccessLogPageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        entries = access_log_filtered(
            AdminAccessLog.objects.filter(tenant=tenant_of(request.user)).select_related(
                "admin_user"
            ),
            filters.validated_data,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, view=self)
        access_record(request, action=Action.READ_ACCESS_LOG, resource_type="access_log")
        return paginator.get_paginated_response(AccessLogEntrySerializer(page, many=True).data)
