"""The HITL API (`/api/v1/admin/hitl/...`): the queue, one approval with its explainer, the four
decisions, analytics. Everything is scoped to the caller's tenant: another tenant's approval
answers 404, as an unknown id does. Who may decide is the approval's object permission."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BigIntegerField
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasTenant
from accounts.types import AuthedAPIRequest
from engarde.errors import ErrorSerializer
from hitl.explain import approval_explain
from hitl.models import Approval, Priority, RiskLevel
from hitl.selectors import approval_queue, hitl_analytics, queue_summary
from hitl.services import (
    DecisionRefused,
    approval_approve,
    approval_escalate,
    approval_reject,
    approval_request_changes,
)
from privacy.access_log import Action, access_record
from privacy.masking import mask_text

MAX_PAGE = 200
# Past any queue's length; PostgreSQL refuses an OFFSET beyond a bigint (a 500 before).
MAX_OFFSET = 1_000_000
MAX_ANALYTICS_DAYS = 366
STATUS_FILTERS = ["open", "all", *Approval.Status.values]


class CanViewApprovals(BasePermission):
    message = "Your role does not include the approvals queue."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.user.has_perm("hitl.view_approval")


class Refused(APIException):
    def __init__(self, refused: DecisionRefused) -> None:
        self.status_code = refused.status
        super().__init__(detail=str(refused), code=refused.code)


class MaskedTextField(serializers.CharField):
    """Text that may quote a person ("1 post about ..."): masked, as conversation text is."""

    def to_representation(self, value: Any) -> str:
        return mask_text(super().to_representation(value))


class ApprovalSerializer(serializers.ModelSerializer):
    title = MaskedTextField(help_text="Personal data in it is masked.")
    # Null when nobody asked (the agent did), nobody holds it yet, or no workflow applied.
    requested_by = serializers.CharField(
        source="requested_by.username", read_only=True, allow_null=True
    )
    assigned_to = serializers.CharField(
        source="assigned_to.username", read_only=True, allow_null=True
    )
    workflow = serializers.CharField(source="workflow.name", read_only=True, allow_null=True)
    sla_seconds_left = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = [
            "id",
            "title",
            "action_type",
            "status",
            "priority",
            "risk_score",
            "risk_level",
            "estimated_cost",
            "estimated_reach",
            "hold_reasons",
            "requested_by",
            "requested_by_agent",
            "conversation_id",
            "workflow",
            "current_level",
            "assigned_to",
            "sla_deadline",
            "sla_seconds_left",
            "sla_breached",
            "sla_breach_minutes",
            "expires_at",
            "decided_at",
            "execution_status",
            "created_at",
        ]

    def get_sla_seconds_left(self, approval: Approval) -> int | None:
        if approval.sla_deadline is None or not approval.is_open:
            return None
        return int((approval.sla_deadline - timezone.now()).total_seconds())


class DecisionOutputSerializer(ApprovalSerializer):
    execution_result = serializers.JSONField()

    class Meta(ApprovalSerializer.Meta):
        fields = [*ApprovalSerializer.Meta.fields, "execution_result"]


class ApprovalDetailSerializer(ApprovalSerializer):
    explainer = serializers.JSONField(help_text="Why, the data, the risk breakdown, the history.")

    class Meta(ApprovalSerializer.Meta):
        fields = [*ApprovalSerializer.Meta.fields, "explainer"]


class QueueOutputSerializer(serializers.Serializer):
    summary = serializers.DictField(child=serializers.IntegerField())
    results = ApprovalSerializer(many=True)
    next_offset = serializers.IntegerField(allow_null=True)


def _approval(request: AuthedAPIRequest, approval_id: int) -> Approval:
    approval = (
        Approval.objects.for_tenant(request.user.tenant)
        .select_related("requested_by", "assigned_to", "workflow", "decided_by")
        .filter(pk=approval_id)
        .first()
    )
    if approval is None:
        raise NotFound("No such approval.")
    return approval


class QueueView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, CanViewApprovals]

    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=STATUS_FILTERS, required=False)
        priority = serializers.ChoiceField(choices=Priority.values, required=False)
        risk_level = serializers.ChoiceField(choices=RiskLevel.values, required=False)
        assigned_to = serializers.CharField(
            required=False,
            max_length=len(str(BigIntegerField.MAX_BIGINT)),
            help_text="'me' or a user id.",
        )
        limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=50)
        offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)

        def validate_assigned_to(self, value: str) -> User:
            caller = self.context["request"].user
            if value == "me":
                return caller
            user = (
                User.objects.filter(pk=value, tenant_id=caller.tenant_id).first()
                if value.isdecimal()
                else None
            )
            if user is None:
                raise ValidationError("'me' or the id of a user of your workspace.")
            return user

    @extend_schema(
        parameters=[Filters],
        responses=QueueOutputSerializer,
        summary="The approvals queue, soonest SLA deadline first",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        filters = self.Filters(data=request.query_params, context={"request": request})
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        approvals = approval_queue(
            user=request.user,
            status=data.get("status"),
            priority=data.get("priority"),
            risk_level=data.get("risk_level"),
            assigned_to=data.get("assigned_to"),
        )
        page = list(approvals[data["offset"] : data["offset"] + data["limit"] + 1])
        return Response(
            {
                "summary": queue_summary(user=request.user),
                "results": ApprovalSerializer(page[: data["limit"]], many=True).data,
                "next_offset": data["offset"] + data["limit"]
                if len(page) > data["limit"]
                else None,
            }
        )


class ApprovalDetailView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, CanViewApprovals]

    @extend_schema(
        responses=ApprovalDetailSerializer, summary="One approval, with the explainer and history"
    )
    def get(self, request: AuthedAPIRequest, approval_id: int) -> Response:
        approval = _approval(request, approval_id)
        access_record(
            request,
            action=Action.VIEW_APPROVAL,
            resource_type="approval",
            resource_id=approval.pk,
            tenant_id=approval.tenant_id,
        )
        return Response(
            {
                **ApprovalSerializer(approval).data,
                "explainer": approval_explain(approval=approval, viewer=request.user),
            }
        )


# A decision on an approval that is already closed, or that the caller already approved at its
# current level (hitl.services.decisions.DecisionRefused).
DECISION_ERRORS = {
    409: OpenApiResponse(
        ErrorSerializer, description="Already decided, or already approved by you at this level."
    ),
}


class DecisionView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, CanViewApprovals]
    input_serializer: type[serializers.Serializer]

    def decide(
        self, request: AuthedAPIRequest, approval: Approval, data: dict[str, Any]
    ) -> Approval:
        raise NotImplementedError

    def post(self, request: AuthedAPIRequest, approval_id: int) -> Response:
        approval = _approval(request, approval_id)
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            decided = self.decide(request, approval, serializer.validated_data)
        except DecisionRefused as refused:
            raise Refused(refused) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(
            {
                **ApprovalSerializer(decided).data,
                "execution_result": decided.execution_result,
            }
        )


class ApproveView(DecisionView):
    class ApproveInputSerializer(serializers.Serializer):
        notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        edited_reply = serializers.CharField(
            required=False, max_length=4000, help_text="A held reply's new text."
        )

    input_serializer = ApproveInputSerializer

    @extend_schema(
        request=ApproveInputSerializer,
        responses={200: DecisionOutputSerializer, **DECISION_ERRORS},
        summary="Approve (at the current level)",
    )
    def post(self, request: AuthedAPIRequest, approval_id: int) -> Response:
        return super().post(request, approval_id)

    def decide(
        self, request: AuthedAPIRequest, approval: Approval, data: dict[str, Any]
    ) -> Approval:
        return approval_approve(
            approval_id=approval.pk,
            user=request.user,
            notes=data.get("notes", ""),
            edited_reply=data.get("edited_reply"),
        )


class RejectView(DecisionView):
    class RejectInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    input_serializer = RejectInputSerializer

    @extend_schema(
        request=RejectInputSerializer,
        responses={200: DecisionOutputSerializer, **DECISION_ERRORS},
        summary="Reject, with the reason the requester gets",
    )
    def post(self, request: AuthedAPIRequest, approval_id: int) -> Response:
        return super().post(request, approval_id)

    def decide(
        self, request: AuthedAPIRequest, approval: Approval, data: dict[str, Any]
    ) -> Approval:
        return approval_reject(approval_id=approval.pk, user=request.user, reason=data["reason"])


class EscalateView(DecisionView):
    class EscalateInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)
        escalate_to = serializers.IntegerField(
            required=False,
            max_value=BigIntegerField.MAX_BIGINT,
            help_text="A user id; without it, the workflow's next level.",
        )

    input_serializer = EscalateInputSerializer

    @extend_schema(
        request=EscalateInputSerializer,
        responses={200: DecisionOutputSerializer, **DECISION_ERRORS},
        summary="Escalate to a person or the next level",
    )
    def post(self, request: AuthedAPIRequest, approval_id: int) -> Response:
        return super().post(request, approval_id)

    def decide(
        self, request: AuthedAPIRequest, approval: Approval, data: dict[str, Any]
    ) -> Approval:
        return approval_escalate(
            approval_id=approval.pk,
            user=request.user,
            reason=data["reason"],
            escalate_to=data.get("escalate_to"),
        )


class RequestChangesView(DecisionView):
    class RequestChangesInputSerializer(serializers.Serializer):
        feedback = serializers.CharField(max_length=2000)

    input_serializer = RequestChangesInputSerializer

    @extend_schema(
        request=RequestChangesInputSerializer,
        responses={200: DecisionOutputSerializer, **DECISION_ERRORS},
        summary="Send the request back with feedback",
    )
    def post(self, request: AuthedAPIRequest, approval_id: int) -> Response:
        return super().post(request, approval_id)

    def decide(
        self, request: AuthedAPIRequest, approval: Approval, data: dict[str, Any]
    ) -> Approval:
        return approval_request_changes(
            approval_id=approval.pk, user=request.user, feedback=data["feedback"]
        )


class AnalyticsView(APIView):
    permission_classes = [IsAuthenticated, HasTenant, CanViewApprovals]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": MAX_ANALYTICS_DAYS, "default": 30},
                description="The window, in days.",
            )
        ],
        responses=OpenApiTypes.OBJECT,
        summary="HITL analytics",
    )
    def get(self, request: AuthedAPIRequest) -> Response:
        raw = request.query_params.get("days", "30")
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_ANALYTICS_DAYS:
            raise ValidationError({"days": [f"A whole number from 1 to {MAX_ANALYTICS_DAYS}."]})
        since = timezone.now() - timedelta(days=int(raw))
        return Response(hitl_analytics(tenant=request.user.tenant, since=since))
