"""What the approvals console shows and takes: the queue's columns, the decision explainer laid
out for the detail page, the four decision forms (each calls its service), the sidebar badges and
the approvers' landing on the queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from accounts.models import User
from accounts.roles import BUSINESS_ROLES
from agents.types import ActionType, AgentType
from hitl.models import APPROVER_ROLES, HELD_REPLY, Approval, Notification
from hitl.selectors import approvals_awaiting
from hitl.services import (
    approval_approve,
    approval_escalate,
    approval_reject,
    approval_request_changes,
)
from privacy.reveal import text_for

ACTION_LABELS = {HELD_REPLY: "Held reply", **dict(ActionType.choices)}
AGENT_LABELS = dict(AgentType.choices)
LEVEL_STATES = {
    "done": ("success", "Done"),
    "current": ("warning", "Deciding now"),
    "upcoming": ("", "Upcoming"),
    "closed": ("", "Closed"),
}
# Words the explainer's keys spell in lower case that people read in capitals.
ACRONYMS = {"roas": "ROAS", "ctr": "CTR", "id": "ID", "ltv": "LTV", "sla": "SLA"}


def action_label(action_type: str) -> str:
    return ACTION_LABELS.get(action_type, action_type.replace("_", " ").capitalize())


def agent_label(agent_type: str) -> str:
    return AGENT_LABELS.get(agent_type, agent_type)


def requester(approval: Approval) -> str:
    """The agent that proposed it, else the person who asked."""
    if approval.requested_by_agent:
        return agent_label(approval.requested_by_agent)
    return approval.requested_by.username if approval.requested_by else "-"


def duration(seconds: float) -> str:
    minutes = int(max(seconds, 0) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def time_left(approval: Approval, now: datetime) -> tuple[str, str] | None:
    """(kind, text) for an open approval with a deadline: "1h 45m left", "overdue 12m"."""
    if not approval.is_open or approval.sla_deadline is None:
        return None
    seconds = (approval.sla_deadline - now).total_seconds()
    if seconds < 0:
        return "overdue", f"overdue {duration(-seconds)}"
    # Inside the hour the reminder goes out: the queue shows it as urgent too.
    return ("soon" if seconds < 3600 else "ok"), f"{duration(seconds)} left"


def score(value: Any) -> str:
    """50.00 -> "50", 52.50 -> "52.5"."""
    text = f"{value:f}" if hasattr(value, "as_tuple") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _label(key: str) -> str:
    words = [ACRONYMS.get(word, word) for word in str(key).split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _value(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _pairs(data: dict[str, Any]) -> list[tuple[str, str]]:
    # Stored as jsonb, the keys come back in no order a reader expects: alphabetical then.
    return [(_label(key), _value(value)) for key, value in sorted(data.items())]


def explainer_layout(explainer: dict[str, Any]) -> dict[str, Any]:
    """approval_explain()'s answer as the detail page shows it: label/value pairs and tables
    (strings only: the template escapes every one)."""
    risk = explainer["risk"]
    workflow = explainer["workflow"]
    execution = explainer["execution"]
    return {
        "rationale": _pairs(explainer["why"]["rationale"] or {}),
        "data": _pairs(explainer["data"]),
        "risk_table": {
            "headers": ["Factor", "Points", "Detail"],
            "rows": [
                [_label(factor["factor"]), score(factor["points"]), factor["detail"]]
                for factor in risk["factors"]
            ]
            + [["Total", f"{score(risk['score'])}/100", f"{risk['level']} risk".capitalize()]],
        },
        "levels": [
            {
                **level,
                "roles": ", ".join(role.replace("_", " ") for role in level["approver_roles"]),
                "state_variant": LEVEL_STATES[level["state"]][0],
                "state_label": LEVEL_STATES[level["state"]][1],
            }
            for level in workflow["levels"]
        ],
        "history": [
            {**entry, "details": _pairs(entry["data"] or {})} for entry in explainer["history"]
        ],
        "execution_label": dict(Approval.Execution.choices).get(
            execution["status"], execution["status"]
        ),
        "execution_result": _pairs(execution["result"] or {}),
    }


# --- deciding -----------------------------------------------------------------------------


def _textarea(rows: int, *, required: bool = False, placeholder: str = "") -> Any:
    attrs: dict[str, Any] = {"rows": rows}
    if required:
        # The browser asks first; the service is what refuses an empty reason.
        attrs["required"] = True
    if placeholder:
        attrs["placeholder"] = placeholder
    return UnfoldAdminTextareaWidget(attrs=attrs)


def editable_reply(approval: Approval, viewer: User) -> str | None:
    """The held reply the approver may edit: only when it holds no personal data. Replies are
    conversation text, masked for every role on this page; an approver editing the masked text
    would send the masks."""
    if not approval.is_held_reply or approval.message is None:
        return None
    body = approval.message.body
    return body if text_for(viewer, body) == body else None


def _same_text(a: str, b: str) -> bool:
    # Browsers send textarea lines as CRLF.
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


class DecisionForm(forms.Form):
    verb: str
    title: str

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        approval: Approval,
        user: User,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, prefix=self.verb, **kwargs)
        self.approval = approval
        self.user = user

    @property
    def action_url(self) -> str:
        return reverse("admin:hitl_approval_decide", args=[self.approval.pk, self.verb])

    def decide(self) -> tuple[str, str]:
        """Call the service; (message level, what happened)."""
        raise NotImplementedError


class ApproveForm(DecisionForm):
    verb = "approve"
    title = "Approve"
    notes = forms.CharField(required=False, widget=_textarea(2), label="Notes (optional)")
    reply = forms.CharField(
        required=False,
        strip=False,
        widget=_textarea(6),
        label="Reply to send",
        help_text="Edit it before approving if it should say something else.",
    )

    def __init__(self, *args: Any, reply: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.original_reply = reply
        if reply is None:
            del self.fields["reply"]
        else:
            self.fields["reply"].initial = reply

    def decide(self) -> tuple[str, str]:
        level = self.approval.current_level
        edited = self.cleaned_data.get("reply")
        if self.original_reply is None or edited is None or _same_text(edited, self.original_reply):
            edited = None
        approval = approval_approve(
            approval_id=self.approval.pk,
            user=self.user,
            notes=self.cleaned_data["notes"],
            edited_reply=edited,
        )
        if approval.status == Approval.Status.APPROVED:
            if approval.execution_status == Approval.Execution.FAILED:
                error = (approval.execution_result or {}).get("error", "")
                return "warning", f"Approved, but it could not be carried out: {error}"
            if approval.execution_status == Approval.Execution.SUCCEEDED:
                return "success", "Approved and carried out."
            return "success", "Approved."
        if approval.current_level > level:
            return (
                "success",
                f"Approved at level {level}: it now waits for level {approval.current_level}.",
            )
        return "success", f"Your approval at level {level} is recorded: more approvers are needed."


class RejectForm(DecisionForm):
    verb = "reject"
    title = "Reject"
    reason = forms.CharField(
        required=False,
        widget=_textarea(3, required=True, placeholder="Why? The requester is told."),
        label="Reason",
    )

    def decide(self) -> tuple[str, str]:
        approval_reject(
            approval_id=self.approval.pk, user=self.user, reason=self.cleaned_data["reason"]
        )
        return "success", "Rejected: the requester is told why."


class ApproverChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.username} ({', '.join(r.replace('_', ' ') for r in obj.roles)})"


class EscalateForm(DecisionForm):
    verb = "escalate"
    title = "Escalate"
    reason = forms.CharField(required=False, widget=_textarea(2, required=True), label="Reason")
    escalate_to = ApproverChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=UnfoldAdminSelectWidget,
        label="To",
        empty_label="The next level",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form's copy of the field declared above.
        field = cast(ApproverChoiceField, self.fields["escalate_to"])
        field.queryset = (
            User.objects.filter(
                tenant_id=self.approval.tenant_id,
                is_active=True,
                is_deleted=False,
                groups__name__in=APPROVER_ROLES,
            )
            .exclude(pk__in=[self.user.pk, self.approval.requested_by_id or 0])
            .distinct()
            .order_by("username")
            .prefetch_related("groups")
        )
        workflow = self.approval.workflow
        last = max((lv.level for lv in workflow.levels.all()), default=1) if workflow else 1
        if self.approval.current_level >= last:
            # There is no next level to hand it to: a person must be named.
            field.empty_label = "Choose a person (this is the last level)"

    def decide(self) -> tuple[str, str]:
        target = self.cleaned_data["escalate_to"]
        approval = approval_escalate(
            approval_id=self.approval.pk,
            user=self.user,
            reason=self.cleaned_data["reason"],
            escalate_to=target.pk if target else None,
        )
        if target is not None:
            return "success", f"Escalated to {target.username}."
        return "success", f"Escalated to level {approval.current_level}."


class RequestChangesForm(DecisionForm):
    verb = "request-changes"
    title = "Request changes"
    feedback = forms.CharField(
        required=False,
        widget=_textarea(3, required=True, placeholder="What should change?"),
        label="Feedback",
    )

    def decide(self) -> tuple[str, str]:
        approval_request_changes(
            approval_id=self.approval.pk, user=self.user, feedback=self.cleaned_data["feedback"]
        )
        return "success", "Changes requested: the requester is told what to change."


DECISION_FORMS: dict[str, type[DecisionForm]] = {
    form.verb: form for form in (ApproveForm, RejectForm, EscalateForm, RequestChangesForm)
}


def decision_forms(approval: Approval, user: User, reply: str | None) -> list[DecisionForm]:
    """The forms an approver sees: no "request changes" for a held reply (nobody would revise
    it)."""
    forms_ = [
        ApproveForm(approval=approval, user=user, reply=reply),
        RejectForm(approval=approval, user=user),
        EscalateForm(approval=approval, user=user),
    ]
    if not approval.is_held_reply:
        forms_.append(RequestChangesForm(approval=approval, user=user))
    return forms_


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- the sidebar and the landing ----------------------------------------------------------


def _counts(request: HttpRequest) -> dict[str, int]:
    # The navigation asks whether to show a badge and the badge asks for its figure: once.
    counts = getattr(request, "_hitl_counts", None)
    if counts is None:
        user = request.user
        # An anonymous user has no permission: both counts are 0.
        counts = {
            "awaiting": approvals_awaiting(user).count()
            if user.is_authenticated and user.has_perm("hitl.view_approval")
            else 0,
            "unread": Notification.objects.filter(recipient=user, read_at__isnull=True).count()
            if user.is_authenticated and user.has_perm("hitl.view_notification")
            else 0,
        }
        request._hitl_counts = counts  # type: ignore[attr-defined]
    return counts


def awaiting_badge(request: HttpRequest) -> str:
    return str(_counts(request)["awaiting"])


def unread_badge(request: HttpRequest) -> str:
    return str(_counts(request)["unread"])


def approvals_navigation(request: HttpRequest) -> dict[str, Any] | None:
    """The sidebar's approvals group, with the count that awaits the user and their unread
    notifications (a badge only when there is something)."""
    user = request.user
    items = []
    counts = _counts(request)
    if user.has_perm("hitl.view_approval"):
        items.append(
            {
                "title": "Approval queue",
                "icon": "fact_check",
                "link": reverse("admin:hitl_approval_changelist"),
                **(
                    {"badge": "hitl.admin_views.awaiting_badge", "badge_variant": "danger"}
                    if counts["awaiting"]
                    else {}
                ),
            }
        )
    if user.has_perm("hitl.view_notification"):
        items.append(
            {
                "title": "Notifications",
                "icon": "notifications",
                "link": reverse("admin:hitl_notification_changelist"),
                **(
                    {"badge": "hitl.admin_views.unread_badge", "badge_variant": "primary"}
                    if counts["unread"]
                    else {}
                ),
            }
        )
    return {"title": "Approvals", "items": items} if items else None


def lands_on_queue(user: User | AnonymousUser) -> bool:
    """People whose roles are all business roles (managers, directors, the CFO) come to the
    console to decide approvals: the queue is their home page."""
    if not user.is_authenticated or user.is_superuser:
        return False
    roles = set(user.groups.values_list("name", flat=True))
    return bool(roles) and roles <= set(BUSINESS_ROLES)


def queue_landing(index: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap the admin index: approvers go to what awaits them."""

    @wraps(index)
    def landing(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if lands_on_queue(request.user):
            return HttpResponseRedirect(reverse("admin:hitl_approval_changelist") + "?awaiting=me")
        return index(request, extra_context)

    landing.queue_landing = True  # type: ignore[attr-defined]
    return landing
