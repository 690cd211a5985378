"""The console's analytics APIs (`/api/v1/admin/analytics/...`), for the console roles, scoped
to the caller's tenant: the dashboard's figures, per agent, the live figures and the export of
the daily rollups. How each figure is defined: monitoring.analytics."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from drf_spectacular.plumbing import build_array_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Tenant
from accounts.permissions import HasTenant, tenant_of
from accounts.types import AuthedAPIRequest
from engarde.errors import ErrorSerializer
from monitoring.analytics.figures import local_today
from monitoring.analytics.selectors import PERIODS, analytics_live, dashboard_figures
from monitoring.models import DailyRollup
from monitoring.permissions import SeesAllConversations

DEFAULT_PERIOD = 30
MAX_EXPORT_DAYS = 731
EXPORT_CHUNK = 2000
ERRORS = {401: ErrorSerializer, 403: ErrorSerializer}
# An integer enum: its bounds are stated too, as they are for every other integer input.
PERIOD_PARAMETER = OpenApiParameter(
    "period",
    {"type": "integer", "minimum": min(PERIODS), "maximum": max(PERIODS)},
    enum=list(PERIODS),
    description="Days, today included (default 30).",
)


def money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=6, **options)


class PeriodInputSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS, default=DEFAULT_PERIOD)


class PeriodSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    time_zone = serializers.CharField(help_text="The tenant's: where its days begin and end.")
    live_days = serializers.ListField(
        child=serializers.DateField(), help_text="Not rolled up yet: computed live."
    )
    missing_days = serializers.ListField(
        child=serializers.DateField(), help_text="Ended, not rolled up yet: not counted."
    )


class ResponseTimeSerializer(serializers.Serializer):
    replies = serializers.IntegerField()
    avg_ms = serializers.IntegerField(allow_null=True)
    p50 = serializers.IntegerField(allow_null=True)
    p95 = serializers.IntegerField(allow_null=True)
    p99 = serializers.IntegerField(allow_null=True)


class ConversationFiguresSerializer(serializers.Serializer):
    conversations = serializers.IntegerField(help_text="Started in the period.")
    messages = serializers.IntegerField(help_text="The people's, the agents', the operators'.")
    csat = serializers.FloatField(allow_null=True, help_text="Average 1-5 rating given.")
    csat_count = serializers.IntegerField()
    resolution_rate = serializers.FloatField(allow_null=True, help_text="Resolved / settled.")
    escalation_rate = serializers.FloatField(allow_null=True, help_text="Escalated / settled.")


class AgentFiguresSerializer(ConversationFiguresSerializer):
    avg_confidence = serializers.FloatField(allow_null=True)
    hitl_rate = serializers.FloatField(allow_null=True, help_text="Runs held for review / runs.")
    runs = serializers.IntegerField()
    cost_usd = money(help_text="Agent runs plus WhatsApp messages.")
    cost_per_conversation_usd = money(allow_null=True)


class TotalsSerializer(AgentFiguresSerializer):
    conversations_settled = serializers.IntegerField()
    resolved = serializers.IntegerField()
    escalated = serializers.IntegerField()
    messages_user = serializers.IntegerField()
    messages_agent = serializers.IntegerField()
    messages_human = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    agent_cost_usd = money()
    whatsapp_messages = serializers.IntegerField()
    whatsapp_cost_usd = money()
    active_conversations = serializers.IntegerField(help_text="A message in the last 15 minutes.")


class ChannelFiguresSerializer(ConversationFiguresSerializer):
    channel = serializers.CharField(help_text="Blank: what has no channel (API runs).")
    name = serializers.CharField()
    share = serializers.FloatField(allow_null=True, help_text="Of the period's conversations.")
    cost_usd = money()


class AgentRowSerializer(AgentFiguresSerializer):
    agent_type = serializers.CharField()
    name = serializers.CharField()
    active = serializers.IntegerField(help_text="Open now: not closed, a message in 24 hours.")
    response_time = ResponseTimeSerializer()


class HitlFiguresSerializer(serializers.Serializer):
    pending = serializers.IntegerField(help_text="Open now (pending or escalated).")
    breached = serializers.IntegerField(help_text="Open now and past their deadline.")
    created = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    expired = serializers.IntegerField()
    avg_decision_seconds = serializers.IntegerField(allow_null=True)
    sla_compliance = serializers.FloatField(allow_null=True)


class DayPointSerializer(ConversationFiguresSerializer):
    date = serializers.DateField()
    state = serializers.ChoiceField(choices=["rolled_up", "live", "missing"])
    conversations_by_channel = serializers.DictField(child=serializers.IntegerField())
    active = serializers.IntegerField(help_text="Conversations with a message that day.")
    response_p50 = serializers.IntegerField(allow_null=True)
    response_p95 = serializers.IntegerField(allow_null=True)
    response_p99 = serializers.IntegerField(allow_null=True)
    approvals_created = serializers.IntegerField()
    approvals_approved = serializers.IntegerField()
    approvals_rejected = serializers.IntegerField()
    approvals_expired = serializers.IntegerField()
    cost_usd = money()


class DashboardSerializer(serializers.Serializer):
    period = PeriodSerializer()
    totals = TotalsSerializer()
    by_channel = ChannelFiguresSerializer(many=True)
    by_agent = AgentRowSerializer(many=True)
    response_time = ResponseTimeSerializer(help_text="Percentiles estimated over the days.")
    hitl = HitlFiguresSerializer()
    series = DayPointSerializer(many=True)


class WalkerAgentsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    agents = AgentRowSerializer(many=True)


class RealtimeSerializer(serializers.Serializer):
    active_conversations = serializers.IntegerField(help_text="A message in the last 15 minutes.")
    messages_last_hour = serializers.IntegerField()
    avg_response_time_ms = serializers.IntegerField(
        allow_null=True, help_text="Of the last 100 agent replies, within the last hour."
    )
    hitl_pending_count = serializers.IntegerField()
    hitl_breached_count = serializers.IntegerField()
    timestamp = serializers.DateTimeField()


def _period(request: Request) -> int:
    query = PeriodInputSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["period"]


class DashboardView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    @extend_schema(
        parameters=[PERIOD_PARAMETER],
        responses={200: DashboardSerializer, 400: ErrorSerializer, **ERRORS},
        summary="The analytics dashboard: totals, by channel, by agent, response times, "
        "approvals and the daily series",
        description="From the nightly rollups, with the days not rolled up yet computed live. "
        "400 names a `period` other than 7, 30 or 90.",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        figures = dashboard_figures(tenant=tenant_of(request.user), days=_period(request))
        return Response(DashboardSerializer(figures).data)


class WalkerAgentsView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    @extend_schema(
        parameters=[PERIOD_PARAMETER],
        responses={200: WalkerAgentsSerializer, 400: ErrorSerializer, **ERRORS},
        summary="Per Walker agent: conversations, messages, CSAT, open conversations, "
        "resolution, confidence, HITL rate, response times and cost",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        figures = dashboard_figures(tenant=tenant_of(request.user), days=_period(request))
        return Response(
            WalkerAgentsSerializer(
                {"period": figures["period"], "agents": figures["by_agent"]}
            ).data
        )


class RealtimeView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]

    @extend_schema(
        responses={200: RealtimeSerializer, **ERRORS},
        summary="What is happening now: active conversations, messages in the last hour, "
        "response time, approvals waiting",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        return Response(RealtimeSerializer(analytics_live(tenant=tenant_of(request.user))).data)


EXPORT_COLUMNS = (
    "day",
    "channel",
    "agent_type",
    "conversations_started",
    "conversations_active",
    "conversations_settled",
    "conversations_resolved",
    "conversations_escalated",
    "messages_user",
    "messages_agent",
    "messages_human",
    "replies_timed",
    "response_ms_sum",
    "response_ms_max",
    "response_p50",
    "response_p95",
    "response_p99",
    "csat_count",
    "csat_sum",
    "approvals_created",
    "approvals_approved",
    "approvals_rejected",
    "approvals_expired",
    "decisions_timed",
    "decision_seconds_sum",
    "sla_total",
    "sla_met",
    "runs",
    "runs_failed",
    "runs_reviewed",
    "confidence_count",
    "confidence_sum",
    "tokens_in",
    "tokens_out",
    "agent_cost_usd",
    "whatsapp_messages",
    "whatsapp_price_usd",
    "whatsapp_cost_usd",
)
DERIVED_COLUMNS = ("csat_average", "cost_usd", "cost_per_conversation_usd")


def export_rows(*, tenant: Tenant, date_from: date, date_to: date) -> Iterator[dict[str, Any]]:
    """The rollup rows of the range, oldest first, with their cost, read in chunks."""
    rows = (
        DailyRollup.objects.filter(tenant=tenant, day__range=(date_from, date_to))
        .order_by("day", "channel", "agent_type")
        .values(*EXPORT_COLUMNS, "response_histogram")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    for row in rows:
        cost = row["agent_cost_usd"] + row["whatsapp_cost_usd"]
        started = row["conversations_started"]
        yield {
            **row,
            "csat_average": (
                round(row["csat_sum"] / row["csat_count"], 2) if row["csat_count"] else None
            ),
            "cost_usd": cost,
            "cost_per_conversation_usd": (
                (cost / started).quantize(Decimal("0.000001")) if started else None
            ),
        }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    columns = (*EXPORT_COLUMNS, *DERIVED_COLUMNS)
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow(["" if row[name] is None else row[name] for name in columns])


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + json.dumps(row, cls=DjangoJSONEncoder)
    yield "]"


class FormatIsTheFile(BaseContentNegotiation):
    """Here `format` names the export's file format, not a renderer (DRF's own reading of the
    parameter): errors are answered in JSON whatever it says."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ExportView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, SeesAllConversations]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FormatIsTheFile

    class ExportInputSerializer(serializers.Serializer):
        # Declared fields are taken off the class: this does not shadow anything at run time.
        format = serializers.ChoiceField(choices=["csv", "json"], default="csv")
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "json"], description="Default csv."),
            OpenApiParameter(
                "date_from", OpenApiTypes.DATE, description="Default 29 days before date_to."
            ),
            OpenApiParameter(
                "date_to", OpenApiTypes.DATE, description="Default yesterday (tenant's zone)."
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One line per rolled-up day, channel and agent, with its cost.",
            ),
            (200, "application/json"): OpenApiResponse(
                build_array_type(build_object_type()),
                description="A list of the same rows, each with its response-time histogram.",
            ),
            400: ErrorSerializer,
            **ERRORS,
        },
        summary="Export the daily rollups (CSV or JSON), streamed",
        description="Rolled-up days only: today is not in an export until the nightly run has "
        f"rolled it up. At most {MAX_EXPORT_DAYS} days; 400 names a bad `format`, `date_from` "
        "or `date_to`.",
    )
    def get(self, request: AuthedAPIRequest) -> StreamingHttpResponse:
        tenant = tenant_of(request.user)
        query = self.ExportInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data["format"]
        date_to = query.validated_data.get("date_to") or local_today(tenant) - timedelta(days=1)
        date_from = query.validated_data.get("date_from") or date_to - timedelta(days=29)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["date_from is after date_to."]})
        if (date_to - date_from).days >= MAX_EXPORT_DAYS:
            raise serializers.ValidationError(
                {"date_from": [f"The range may span at most {MAX_EXPORT_DAYS} days."]}
            )
        rows = export_rows(tenant=tenant, date_from=date_from, date_to=date_to)
        response = StreamingHttpResponse(
            _csv_lines(rows) if kind == "csv" else _json_chunks(rows),
            content_type="text/csv; charset=utf-8" if kind == "csv" else "application/json",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="engarde_analytics_{tenant.slug}_'
            f'{date_from:%Y%m%d}_{date_to:%Y%m%d}.{kind}"'
        )
        return response
