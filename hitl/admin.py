"""The approvals console: the queue (approvers land on it), an approval's detail page with the
decision explainer and the four decisions, each person's own notifications, and the workflows.

Approvals are never edited as rows: every decision goes through hitl.services, which checks the
approver's object permission and records the history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from accounts.admin_base import (
    ReadOnlyAdminMixin,
    TenantScopedAdminMixin,
    TenantScopedInlineMixin,
)
from accounts.types import AuthedRequest, admin_request
from hitl.admin_views import (
    DECISION_FORMS,
    ApproveForm,
    action_label,
    decision_forms,
    editable_reply,
    error_text,
    explainer_layout,
    queue_landing,
    requester,
    score,
    time_left,
)
from hitl.explain import approval_explain
from hitl.models import (
    APPROVER_ROLES,
    OPEN_STATUSES,
    Approval,
    ApprovalLevel,
    HITLWorkflow,
    Notification,
    NotificationChannel,
    RiskLevel,
)
from hitl.notifications import notification_mark_read
from hitl.selectors import approvals_awaiting, queue_summary
from hitl.services import DecisionRefused
from privacy.access_log import Action, access_record
from privacy.masking import mask_text

RISK_COLOURS: dict[str, str] = {
    RiskLevel.LOW: "success",
    RiskLevel.MEDIUM: "info",
    RiskLevel.HIGH: "warning",
    RiskLevel.CRITICAL: "danger",
}
STATUS_COLOURS: dict[str, str] = {
    Approval.Status.PENDING: "info",
    Approval.Status.ESCALATED: "warning",
    Approval.Status.APPROVED: "success",
    Approval.Status.AUTO_APPROVED: "success",
    Approval.Status.REJECTED: "danger",
    Approval.Status.CHANGES_REQUESTED: "primary",
    Approval.Status.EXPIRED: "",
}
TIME_LEFT_COLOURS = {"overdue": "danger", "soon": "warning", "ok": "info"}

# Approvers land on the queue instead of the index. (A deliberate monkeypatch: the landing may
# answer a redirect where the index answers a TemplateResponse.)
if not getattr(admin.site.index, "queue_landing", False):
    admin.site.index = queue_landing(admin.site.index)  # type: ignore[method-assign,assignment]


class OpenStatusFilter(admin.SimpleListFilter):
    """Open (pending or escalated) unless another status is asked for."""

    title = "status"
    parameter_name = "status"
    OPEN = "open"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (self.OPEN, "Open (pending or escalated)"),
            *Approval.Status.choices,
            (self.ALL, "All"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or self.OPEN
        if value == self.OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == self.ALL:
            return queryset
        return queryset.filter(status=value)

    def choices(self, changelist: Any) -> Any:
        # As SimpleListFilter's, without its "All" first: no value means open here.
        current = self.value() or self.OPEN
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        for index, (value, label) in enumerate(self.lookup_choices):
            if counts is not None:
                count = counts.get(f"{index}__c", -1)
                label = f"{label} ({count if count != -1 else '-'})"
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class AwaitingFilter(admin.SimpleListFilter):
    title = "approver"
    parameter_name = "awaiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Awaiting my decision")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "me":
            awaiting = approvals_awaiting(admin_request(request).user)
            return queryset.filter(pk__in=awaiting.values("pk"))
        return queryset


class ActionTypeFilter(admin.SimpleListFilter):
    """The action types the tenant's approvals have, by name."""

    title = "action type"
    parameter_name = "action_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        types = (
            model_admin.get_queryset(request)
            .order_by("action_type")
            .values_list("action_type", flat=True)
            .distinct()
        )
        return [(value, action_label(value)) for value in types]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action_type=self.value()) if self.value() else queryset


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    """The approval queue: soonest deadline first, open ones unless asked otherwise."""

    list_display = [
        "risk",
        "title_shown",
        "requester",
        "level",
        "time_left",
        "status_label",
        "priority_label",
    ]
    list_display_links = ["title_shown"]
    list_filter = [
        AwaitingFilter,
        OpenStatusFilter,
        "risk_level",
        "priority",
        ActionTypeFilter,
    ]
    list_select_related = ["requested_by", "workflow"]
    search_fields = ["title"]
    ordering = [F("sla_deadline").asc(nulls_last=True), "created_at", "id"]
    show_full_result_count = False
    list_before_template = "admin/hitl/approval/queue_summary.html"
    change_form_template = "admin/hitl/approval/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        levels = (
            ApprovalLevel.objects.filter(workflow=OuterRef("workflow"))
            .order_by()
            .values("workflow")
            .annotate(n=Count("id"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(level_count=Subquery(levels, output_field=IntegerField()))
        )

    @display(description="Risk", ordering="risk_score", label=RISK_COLOURS)
    def risk(self, approval: Approval) -> tuple[str, str]:
        return approval.risk_level, f"{approval.risk_level} {score(approval.risk_score)}/100"

    @display(description="Title", ordering="title")
    def title_shown(self, approval: Approval) -> str:
        # A title can quote the person ("1 post about ..."): masked, as conversation text is.
        return mask_text(approval.title)

    @display(description="Requester")
    def requester(self, approval: Approval) -> str:
        return requester(approval)

    @display(description="Level")
    def level(self, approval: Approval) -> str:
        return f"{approval.current_level}/{getattr(approval, 'level_count', None) or 1}"

    @display(description="Time left", ordering="sla_deadline", label=TIME_LEFT_COLOURS)
    def time_left(self, approval: Approval) -> tuple[str, str] | str:
        return time_left(approval, timezone.now()) or ""

    @display(description="Status", ordering="status", label=STATUS_COLOURS)
    def status_label(self, approval: Approval) -> tuple[str, str]:
        return approval.status, approval.get_status_display()

    @display(description="Priority", ordering="priority")
    def priority_label(self, approval: Approval) -> str:
        return approval.get_priority_display()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = admin_request(request).user
        summary = None
        if user.tenant_id:
            # Overdue by the clock, not only what the SLA sweep has flagged yet.
            overdue = (
                Approval.objects.for_tenant(user.tenant)
                .filter(status__in=OPEN_STATUSES, sla_deadline__lt=timezone.now())
                .count()
            )
            summary = {**queue_summary(user=user), "overdue": overdue}
        context = {
            "title": "Approval queue",
            "queue_summary": summary,
            "awaiting_url": f"{request.path}?awaiting=me",
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    # --- the detail page ------------------------------------------------------------------

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Approval | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(self._explainer_context(admin_request(request), obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _explainer_context(self, request: AuthedRequest, approval: Approval) -> dict[str, Any]:
        explainer = approval_explain(approval=approval, viewer=request.user)
        # A platform operator outside the tenant may read it but never decides for the tenant.
        can_decide = explainer["can_decide"] and request.user.tenant_id == approval.tenant_id
        reply = editable_reply(approval, request.user)
        access_record(
            request,
            action=Action.VIEW_APPROVAL,
            resource_type="approval",
            resource_id=approval.pk,
            tenant_id=approval.tenant_id,
        )
        return {
            "title": mask_text(approval.title) or action_label(approval.action_type),
            "approval": approval,
            "explainer": explainer,
            "layout": explainer_layout(explainer),
            "action_label": action_label(approval.action_type),
            "requester_label": requester(approval),
            "risk_variant": RISK_COLOURS.get(approval.risk_level, ""),
            "risk_text": f"{approval.risk_level} {score(approval.risk_score)}/100",
            "status_variant": STATUS_COLOURS.get(approval.status, ""),
            "time_left": time_left(approval, timezone.now()),
            "reply_masked": bool(approval.is_held_reply and approval.message_id and reply is None),
            "can_decide": can_decide,
            "decision_forms": decision_forms(approval, request.user, reply) if can_decide else [],
            "queue_url": reverse("admin:hitl_approval_changelist"),
            # Linked both ways: the conversation's thread links each approval it raised.
            "conversation_url": (
                reverse("admin:channels_app_conversation_change", args=[approval.conversation_id])
                if approval.conversation_id
                else None
            ),
            "person_url": (
                reverse("admin:accounts_user_change", args=[approval.requested_by_id])
                if approval.requested_by_id
                else None
            ),
        }

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/decide/<slug:verb>/",
                self.admin_site.admin_view(self.decide_view),
                name="hitl_approval_decide",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def decide_view(self, request: AuthedRequest, object_id: str, verb: str) -> HttpResponse:
        """One decision, by the services: the outcome or the refusal comes back as a message on
        the approval's page."""
        form_class = DECISION_FORMS.get(verb)
        if form_class is None:
            raise Http404("No such decision.")
        approval = self.get_object(request, unquote(object_id))
        if approval is None:
            self.message_user(request, "No such approval.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:hitl_approval_changelist"))
        if not self.has_view_permission(request, approval):
            raise PermissionDenied
        kwargs: dict[str, Any] = {}
        if form_class is ApproveForm:
            kwargs["reply"] = editable_reply(approval, request.user)
        form = form_class(request.POST, approval=approval, user=request.user, **kwargs)
        if not form.is_valid():
            self.message_user(request, _form_errors(form), messages.ERROR)
        else:
            try:
                level, text = form.decide()
            except DecisionRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
            except ValidationError as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(request, text, getattr(messages, level.upper()))
        return HttpResponseRedirect(reverse("admin:hitl_approval_change", args=[approval.pk]))


def _form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        # ErrorList yields each error's message (a str); the stubs say ValidationError too.
        text = " ".join(str(error) for error in errors)
        parts.append(f"{field.label}: {text}" if field else text)
    return " ".join(parts)


# --- notifications --------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    """A person's own notifications, unread first. Opening one marks it read and goes to its
    approval."""

    list_display = ["title_link", "body", "approval_link", "created_at", "read"]
    list_display_links = None
    list_select_related = ["approval"]
    ordering = [F("read_at").desc(nulls_first=True), "-created_at", "-id"]
    show_full_result_count = False
    actions = ["mark_read"]
    fields = ["title", "body", "approval", "created_at", "read_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Everyone's own, platform operators included: nobody reads another's notifications.
        return super().get_queryset(request).filter(recipient=admin_request(request).user)

    @display(description="Notification")
    def title_link(self, notification: Notification) -> Any:
        return format_html(
            '<a href="{}" class="text-primary-600 dark:text-primary-500{}">{}</a>',
            reverse("admin:hitl_notification_open", args=[notification.pk]),
            "" if notification.read_at else " font-semibold",
            notification.title,
        )

    @display(description="Approval")
    def approval_link(self, notification: Notification) -> Any:
        if notification.approval_id is None:
            return "-"
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:hitl_approval_change", args=[notification.approval_id]),
            notification.approval_id,
        )

    @display(description="Read", label={"unread": "primary", "read": ""})
    def read(self, notification: Notification) -> tuple[str, str]:
        return ("read", "Read") if notification.read_at else ("unread", "Unread")

    @action(description="Mark as read")
    def mark_read(self, request: AuthedRequest, queryset: QuerySet) -> None:
        count = notification_mark_read(
            user=request.user, ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} notification{'s'[: count != 1]} marked as read.")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = admin_request(request).user
        unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        context = {"title": f"Notifications ({unread} unread)", **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/open/",
                self.admin_site.admin_view(self.open_view),
                name="hitl_notification_open",
            ),
            *super().get_urls(),
        ]

    def open_view(self, request: AuthedRequest, object_id: str) -> HttpResponse:
        notification = self.get_object(request, unquote(object_id))
        if notification is None or not self.has_view_permission(request, notification):
            self.message_user(request, "No such notification.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:hitl_notification_changelist"))
        notification_mark_read(user=request.user, ids=[notification.pk])
        if notification.approval_id is None:
            return HttpResponseRedirect(
                reverse("admin:hitl_notification_change", args=[notification.pk])
            )
        return HttpResponseRedirect(
            reverse("admin:hitl_approval_change", args=[notification.approval_id])
        )


# --- workflows ------------------------------------------------------------------------------


def _role_label(role: str) -> str:
    return "CFO" if role == "cfo" else role.replace("_", " ").capitalize()


class ApprovalLevelForm(forms.ModelForm):
    approver_roles = forms.MultipleChoiceField(
        choices=[(role, _role_label(role)) for role in APPROVER_ROLES],
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )

    class Meta:
        model = ApprovalLevel
        fields = ["level", "approver_roles", "required_count", "sla_hours"]
        labels = {"sla_hours": "SLA hours"}


class ApprovalLevelInline(TenantScopedInlineMixin, TabularInline):
    model = ApprovalLevel
    form = ApprovalLevelForm
    extra = 0
    ordering = ["level"]


class HITLWorkflowForm(forms.ModelForm):
    # Closed lists are ticked, not typed; the models' validators still check what is saved.
    risk_levels = forms.MultipleChoiceField(
        choices=RiskLevel.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text="None ticked: any risk level.",
    )
    notification_channels = forms.MultipleChoiceField(
        choices=NotificationChannel.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )

    class Meta:
        model = HITLWorkflow
        fields = [
            "tenant",
            "name",
            "is_active",
            "action_types",
            "risk_levels",
            "sla_hours",
            "escalation_hours",
            "notification_channels",
        ]
        labels = {"sla_hours": "SLA hours"}
        help_texts = {
            "action_types": 'A JSON list, e.g. ["budget_increase", "held_reply"]. Empty: any.',
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "action_types" in self.fields:
            self.fields["action_types"].widget.attrs["rows"] = 2


@admin.register(HITLWorkflow)
class HITLWorkflowAdmin(TenantScopedAdminMixin, ModelAdmin):
    """Who decides which approvals, level by level, and how fast. The most specific active
    workflow of the tenant wins."""

    form = HITLWorkflowForm
    inlines = [ApprovalLevelInline]
    list_display = [
        "name",
        "covers",
        "levels_summary",
        "sla_hours",
        "escalation_hours",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("levels")

    @display(description="Covers")
    def covers(self, workflow: HITLWorkflow) -> str:
        types = ", ".join(action_label(value) for value in workflow.action_types) or "any action"
        levels = ", ".join(workflow.risk_levels) or "any"
        return f"{types}; {levels} risk"

    @display(description="Levels")
    def levels_summary(self, workflow: HITLWorkflow) -> str:
        return " → ".join(
            ", ".join(role.replace("_", " ") for role in level.approver_roles)
            + (f" ({level.required_count} needed)" if level.required_count > 1 else "")
            for level in workflow.levels.all()
        )
