"""The Walker agents API: list, details, analytics, execute, route. Everything is scoped to the
caller's tenant; an id of another tenant's agent answers 404, as an unknown id does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasTenant, tenant_of
from accounts.types import AuthedAPIRequest
from agents.analytics import agent_analytics
from agents.backends.base import CONTEXT_MESSAGES, ContextMessage
from agents.models import AgentInstance
from agents.router import RouteContext, route
from agents.services import (
    AgentUnavailable,
    agent_execute,
    agent_instance_update,
    conversation_exists,
)
from agents.types import WALKER_AGENT_TYPES, AgentType, BackendKind
from engarde.errors import ErrorSerializer
from engarde.fields import IdField

MAX_INPUT_CHARS = 4000
# Only the last CONTEXT_MESSAGES are read; a client may send a longer window, up to this.
MAX_HISTORY_ITEMS = 50
MAX_ANALYTICS_DAYS = 366
PROTECTED_MESSAGE = "Walker agents are system-protected: this cannot be changed."


def tenant_instances(request: AuthedAPIRequest) -> Any:
    return AgentInstance.objects.for_tenant(request.user.tenant).select_related("agent", "tenant")


class InstanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent_type = serializers.CharField(source="agent.agent_type")
    name = serializers.CharField(source="agent.name")
    purpose = serializers.CharField(source="agent.purpose")
    capabilities = serializers.ListField(source="agent.capabilities", child=serializers.CharField())
    platforms = serializers.ListField(source="agent.platforms", child=serializers.CharField())
    counts_toward_limit = serializers.BooleanField(source="agent.counts_toward_limit")
    system_protected = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()
    backend = serializers.CharField()
    flow_id = serializers.CharField()

    def get_system_protected(self, instance: AgentInstance) -> bool:
        return True


class AgentListView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class AgentListOutputSerializer(serializers.Serializer):
        agents = InstanceSerializer(many=True)
        walker_agent_limit = serializers.IntegerField(allow_null=True)
        walker_agents_enabled = serializers.IntegerField()

    @extend_schema(responses=AgentListOutputSerializer, summary="The tenant's Walker agents")
    def get(self, request: AuthedAPIRequest) -> Response:
        instances = list(tenant_instances(request))
        enabled = sum(1 for i in instances if i.enabled and i.agent.counts_toward_limit)
        return Response(
            {
                "agents": InstanceSerializer(instances, many=True).data,
                "walker_agent_limit": tenant_of(request.user).limits.walker_agents,
                "walker_agents_enabled": enabled,
            }
        )


class AgentDetailView(APIView):
    """The definition is system-protected; a tenant admin changes only `enabled`, `backend` and
    `flow_id`, and only with the permission to change agent instances."""

    permission_classes = [IsAuthenticated, HasTenant]

    class AgentUpdateSerializer(serializers.Serializer):
        enabled = serializers.BooleanField(required=False)
        backend = serializers.ChoiceField(choices=BackendKind.choices, required=False)
        flow_id = serializers.CharField(required=False, allow_blank=True, max_length=100)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            unknown = set(self.initial_data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(dict.fromkeys(sorted(unknown), PROTECTED_MESSAGE))
            return attrs

    @extend_schema(responses=InstanceSerializer, summary="One Walker agent of the tenant")
    def get(self, request: AuthedAPIRequest, agent_id: int) -> Response:
        instance = get_object_or_404(tenant_instances(request), pk=agent_id)
        return Response(InstanceSerializer(instance).data)

    @extend_schema(
        request=AgentUpdateSerializer,
        responses=InstanceSerializer,
        summary="Enable, disable or re-point an agent",
    )
    def patch(self, request: AuthedAPIRequest, agent_id: int) -> Response:
        instance = get_object_or_404(tenant_instances(request), pk=agent_id)
        if not request.user.has_perm("agents.change_agentinstance"):
            raise PermissionDenied("Your role may not change agents.")
        serializer = self.AgentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            instance = agent_instance_update(instance=instance, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(InstanceSerializer(instance).data)


class AnalyticsDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    volume = serializers.IntegerField()
    # The serializer metaclass takes declared fields off the class, so this field does not
    # shadow Serializer.errors at run time; the stubs cannot see that.
    errors = serializers.IntegerField()  # type: ignore[assignment]
    avg_response_ms = serializers.FloatField()


class AnalyticsResponseTimeSerializer(serializers.Serializer):
    replies = serializers.IntegerField(help_text="Agent replies with a response time.")
    avg_ms = serializers.IntegerField(allow_null=True)
    p50 = serializers.IntegerField(allow_null=True)
    p95 = serializers.IntegerField(allow_null=True)
    p99 = serializers.IntegerField(allow_null=True)


class AnalyticsSerializer(serializers.Serializer):
    agent_type = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    conversations = serializers.IntegerField(
        allow_null=True, help_text="Started in the range (the tenant's local days)."
    )
    messages = serializers.IntegerField(
        allow_null=True, help_text="The people's, the agent's, human operators'."
    )
    csat = serializers.FloatField(allow_null=True, help_text="Average 1-5 rating.")
    csat_count = serializers.IntegerField(allow_null=True)
    active = serializers.IntegerField(
        allow_null=True, help_text="Open now: not closed, a message in the last 24 hours."
    )
    resolution_rate = serializers.FloatField(
        allow_null=True, help_text="Resolved / settled conversations (monitoring.analytics)."
    )
    escalation_rate = serializers.FloatField(allow_null=True)
    response_time = AnalyticsResponseTimeSerializer(
        allow_null=True, help_text="Of the agent's replies; percentiles estimated over days."
    )
    volume = serializers.IntegerField(help_text="Runs in the range.")
    avg_response_ms = serializers.FloatField(allow_null=True)
    p95_response_ms = serializers.IntegerField(allow_null=True, help_text="Nearest rank.")
    avg_confidence = serializers.FloatField(allow_null=True)
    hitl_rate = serializers.FloatField(allow_null=True, help_text="Share of runs held for review.")
    error_rate = serializers.FloatField(allow_null=True)
    cost_usd = serializers.CharField()
    tokens = serializers.DictField(child=serializers.IntegerField())
    by_day = AnalyticsDaySerializer(many=True)


class AnalyticsView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class AnalyticsQuerySerializer(serializers.Serializer):
        start = serializers.DateField(required=False, help_text="Default 30 days ago")
        end = serializers.DateField(required=False, help_text="Default today")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            end = attrs.get("end") or timezone.localdate()
            start = attrs.get("start") or end - timedelta(days=29)
            if start > end:
                raise serializers.ValidationError({"start": "start must not be after end."})
            if (end - start).days >= MAX_ANALYTICS_DAYS:
                raise serializers.ValidationError(
                    {"start": f"The range may span at most {MAX_ANALYTICS_DAYS} days."}
                )
            return {"start": start, "end": end}

    @extend_schema(
        parameters=[AnalyticsQuerySerializer],
        responses={
            200: AnalyticsSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="Conversations, messages, CSAT, resolution, response times, volume, latency, "
        "confidence, HITL and error rates of one agent",
    )
    def get(self, request: AuthedAPIRequest, agent_id: int) -> Response:
        instance = get_object_or_404(tenant_instances(request), pk=agent_id)
        if not request.user.has_perm("agents.view_agentrun"):
            raise PermissionDenied("Your role may not see agent analytics.")
        query = self.AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            agent_analytics(
                tenant=tenant_of(request.user),
                agent_type=instance.agent.agent_type,
                start=query.validated_data["start"],
                end=query.validated_data["end"],
            )
        )


class HistoryItemSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["user", "agent", "human", "system"])
    text = serializers.CharField(max_length=MAX_INPUT_CHARS, allow_blank=True)


class ExecuteContextSerializer(serializers.Serializer):
    history = serializers.ListField(
        child=HistoryItemSerializer(),
        required=False,
        max_length=MAX_HISTORY_ITEMS,
        help_text=f"Oldest first; the last {CONTEXT_MESSAGES} are read.",
    )
    conversation_id = IdField(required=False)
    session_id = serializers.CharField(required=False, max_length=100)


class ExecuteView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class ExecuteInputSerializer(serializers.Serializer):
        input = serializers.CharField(max_length=MAX_INPUT_CHARS, trim_whitespace=True)
        # Declared fields are taken off the class: this does not shadow Field.context.
        context = ExecuteContextSerializer(required=False)  # type: ignore[assignment]

    class ExecuteOutputSerializer(serializers.Serializer):
        run_id = serializers.IntegerField()
        agent_type = serializers.CharField()
        text = serializers.CharField()
        confidence = serializers.FloatField()
        actions = serializers.ListField(child=serializers.DictField())
        metadata = serializers.DictField()
        tokens_in = serializers.IntegerField()
        tokens_out = serializers.IntegerField()
        cost_usd = serializers.CharField()
        latency_ms = serializers.IntegerField()
        error = serializers.CharField(allow_blank=True)

    @extend_schema(
        request=ExecuteInputSerializer,
        responses={200: ExecuteOutputSerializer, 502: ExecuteOutputSerializer},
        summary="Run a Walker agent on a message",
        description="502 when the agent's backend failed (the body says how); 409 when the "
        "agent is not enabled; 403 for a role that may not run agents (run_agents); 404 when "
        "context.conversation_id is not a conversation of the caller's tenant.",
    )
    def post(self, request: AuthedAPIRequest, agent_id: int) -> Response:
        if not request.user.has_perm("accounts.run_agents"):
            raise PermissionDenied("Your role may not run agents.")
        instance = get_object_or_404(tenant_instances(request), pk=agent_id)
        serializer = self.ExecuteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        context = serializer.validated_data.get("context", {})
        conversation_id = context.get("conversation_id")
        if conversation_id is not None and not conversation_exists(
            tenant=instance.tenant, conversation_id=conversation_id
        ):
            raise NotFound(f"No conversation {conversation_id} in this workspace.")
        history = [
            ContextMessage(role=item["role"], text=item["text"])
            for item in context.get("history", [])[-CONTEXT_MESSAGES:]
        ]
        try:
            result, run = agent_execute(
                instance=instance,
                message=serializer.validated_data["input"],
                history=history,
                conversation_id=conversation_id,
                session_id=context.get("session_id", ""),
            )
        except AgentUnavailable as exc:
            return Response({"error": "agent_disabled", "detail": str(exc)}, status=409)
        body = {
            "run_id": run.pk,
            "agent_type": run.agent_type,
            "text": result.text,
            "confidence": result.confidence,
            "actions": [action.as_dict() for action in result.actions],
            "metadata": result.metadata,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "cost_usd": str(result.cost_usd),
            "latency_ms": run.latency_ms,
            "error": result.error,
        }
        return Response(
            body, status=status.HTTP_200_OK if result.ok else status.HTTP_502_BAD_GATEWAY
        )


class RouteView(APIView):
    permission_classes = [IsAuthenticated, HasTenant]

    class RouteInputSerializer(serializers.Serializer):
        message = serializers.CharField(max_length=MAX_INPUT_CHARS, trim_whitespace=True)
        current_agent = serializers.ChoiceField(
            choices=[(t.value, t.label) for t in WALKER_AGENT_TYPES], required=False
        )

    class RouteOutputSerializer(serializers.Serializer):
        agent_type = serializers.ChoiceField(choices=AgentType.choices)
        confidence = serializers.FloatField()
        needs_human = serializers.BooleanField()
        reason = serializers.CharField()

    @extend_schema(
        request=RouteInputSerializer,
        responses=RouteOutputSerializer,
        summary="Which agent should answer",
    )
    def post(self, request: AuthedAPIRequest) -> Response:
        serializer = self.RouteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = route(
            serializer.validated_data["message"],
            RouteContext(current_agent=serializer.validated_data.get("current_agent")),
        )
        return Response(
            {
                "agent_type": decision.agent_type,
                "confidence": round(decision.confidence, 3),
                "needs_human": decision.needs_human,
                "reason": decision.reason,
            }
        )
