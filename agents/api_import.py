"""`POST /api/v1/ai-agents/walker/data/<kind>/import`: one CSV file of marketing data into the
caller's tenant. The formats and rules are `agents.importers`'; this view reads the upload,
checks who may import, and answers the report or the errors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Tenant
from accounts.types import AuthedAPIRequest
from agents.importers import (
    KINDS,
    MAX_BYTES,
    MAX_ROWS,
    ImportRejected,
    marketing_csv_import,
)
from engarde.errors import error_body

TRUE = {"1", "true", "yes", "on"}


class CSVParser(BaseParser):
    """A `text/csv` body, kept as bytes (one more than the limit, so an oversized body is told
    apart without reading all of it)."""

    media_type = "text/csv"

    # DRF takes whatever a parser returns as request.data; the stubs allow only mappings.
    def parse(  # type: ignore[override]
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> bytes:
        return stream.read(MAX_BYTES + 1)


class CanImportKind(BasePermission):
    """Staff whose role adds and changes the rows this kind writes (`ImportKind.permissions`)."""

    message = "Your role may not import this marketing data."

    def has_permission(self, request: Request, view: Any) -> bool:
        kind = KINDS.get(view.kwargs.get("kind", ""))
        if kind is None:
            return True  # the view answers 404
        user = request.user
        return bool(user.is_staff and user.has_perms(kind.permissions))


def _formats() -> str:
    lines = []
    for kind in KINDS.values():
        lines.append(f"**{kind.name}**: {kind.title}. Permissions: {', '.join(kind.permissions)}.")
        lines += [
            f"- `{c.name}`{'' if c.required else ' (optional)'}: {c.description}"
            for c in kind.columns
        ]
        lines.append("")
    return "\n".join(lines)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file.")


class ImportCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    tenant = serializers.CharField(help_text="The slug of the tenant the rows went to.")
    rows = serializers.IntegerField(help_text="Data rows in the file.")
    dry_run = serializers.BooleanField()
    counts = serializers.DictField(
        child=ImportCountsSerializer(),
        help_text='Per model written ("campaign", "campaignday", ...).',
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The file's row; the header is row 1.")
    field = serializers.CharField(allow_null=True, help_text="null: the whole row.")
    message = serializers.CharField()


class ImportErrorFieldsSerializer(serializers.Serializer):
    rows = ImportRowErrorSerializer(many=True, required=False, help_text="The first 100.")
    error_count = serializers.IntegerField(required=False)
    missing_columns = serializers.ListField(child=serializers.CharField(), required=False)
    unknown_columns = serializers.ListField(child=serializers.CharField(), required=False)
    repeated_columns = serializers.ListField(child=serializers.CharField(), required=False)


class ImportErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()
    # The serializer metaclass takes declared fields off the class, so this field does not
    # shadow Serializer.fields at run time; the stubs cannot see that.
    fields = ImportErrorFieldsSerializer(required=False)  # type: ignore[assignment]


class ImportQuerySerializer(serializers.Serializer):
    tenant = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,  # the column's (Tenant.slug)
        help_text="Platform operators only: the tenant's slug.",
    )


class MarketingDataImportView(APIView):
    parser_classes = [MultiPartParser, CSVParser]
    permission_classes = [IsAuthenticated, CanImportKind]

    @extend_schema(
        operation_id="walker_data_import",
        summary="Import marketing data from a CSV file",
        description=(
            "Send the file as multipart `file` or as a `text/csv` body. UTF-8 (a BOM is fine), "
            f"comma-separated, header row first; up to {MAX_BYTES // (1024 * 1024)} MB and "
            f"{MAX_ROWS:,} rows. Header names ignore case, spaces and hyphens; unknown "
            "columns are rejected. All or nothing: if any row is invalid, nothing is written "
            "and the answer lists the row errors (the header is row 1). Importing the same file "
            "again changes nothing. The rows go to the caller's tenant; platform operators name "
            "one with `?tenant=<slug>`.\n\n" + _formats()
        ),
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(KINDS)),
            OpenApiParameter(
                "dry_run", bool, description="Check and count, write nothing.", required=False
            ),
            ImportQuerySerializer,
        ],
        request={
            "multipart/form-data": ImportUploadSerializer,
            "text/csv": OpenApiTypes.BINARY,
        },
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(
                ImportErrorSerializer,
                description="The file or some rows are invalid: nothing was written.",
                examples=[
                    OpenApiExample(
                        "Invalid rows",
                        value={
                            "error": "invalid",
                            "detail": "1 row is invalid: nothing was imported.",
                            "fields": {
                                "rows": [
                                    {
                                        "row": 3,
                                        "field": "clicks",
                                        "message": "clicks (900) is more than impressions (800).",
                                    }
                                ],
                                "error_count": 1,
                            },
                        },
                    ),
                    OpenApiExample(
                        "Missing column",
                        value={
                            "error": "invalid",
                            "detail": "Missing required column: clicks. The campaigns columns "
                            "are: platform,campaign,date,...",
                            "fields": {"missing_columns": ["clicks"]},
                        },
                    ),
                ],
            ),
            401: ImportErrorSerializer,
            403: ImportErrorSerializer,
            404: OpenApiResponse(ImportErrorSerializer, description="No such kind."),
            413: OpenApiResponse(ImportErrorSerializer, description="Over the size or row limit."),
        },
    )
    def post(self, request: AuthedAPIRequest, kind: str) -> Response:
        if kind not in KINDS:
            raise NotFound(f"No import for '{kind}'. Kinds: {', '.join(KINDS)}.")
        tenant = self._tenant(request)
        source = self._source(request)
        try:
            report = marketing_csv_import(
                tenant=tenant,
                kind=kind,
                source=source,
                dry_run=request.query_params.get("dry_run", "").lower() in TRUE,
            )
        except ImportRejected as rejected:
            return Response(
                error_body(rejected.code, rejected.detail, rejected.as_fields() or None),
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
                if rejected.code == "too_large"
                else status.HTTP_400_BAD_REQUEST,
            )
        return Response(ImportReportSerializer(report.as_dict()).data)

    def _tenant(self, request: AuthedAPIRequest) -> Tenant:
        user = request.user
        query = ImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        slug = query.validated_data.get("tenant", "")
        if user.is_superuser:
            if slug:
                tenant = Tenant.objects.filter(slug=slug).first()
                if tenant is None:
                    raise NotFound(f"No tenant '{slug}'.")
                return tenant
            if user.tenant is None:
                raise ValidationError({"tenant": ["Platform operators name the tenant."]})
            return user.tenant
        if user.tenant is None:
            raise PermissionDenied("This account belongs to no tenant.")
        if slug and slug != user.tenant.slug:
            raise PermissionDenied("You may import into your own tenant only.")
        return user.tenant

    def _source(self, request: Request) -> Any:
        if isinstance(request.data, bytes):
            return request.data
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError(
                {"file": ["Send the CSV as a multipart `file` or as a text/csv body."]}
            )
        return upload
