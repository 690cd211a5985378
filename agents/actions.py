"""Carrying out the actions the agents propose, once a person (or the risk policy) approved
them. Each takes the tenant and the action's data and answers what it changed; hitl runs them
through its executor registry (registered by hitl, which sits above agents)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Tenant
from agents.models import AudienceSegment, Campaign, ContentItem, SegmentDay
from agents.types import ActionType

ModelT = TypeVar("ModelT", bound=models.Model)


class ActionFailed(Exception):
    """The action cannot be carried out; the message says why, for the approver."""


def _row(rows: QuerySet[ModelT], pk: Any, what: str) -> ModelT:
    """The row the action names, or why there is none."""
    row = rows.filter(pk=pk).first()
    if row is None:
        raise ActionFailed(f"The {what} no longer exists.")
    return row


def _campaign(tenant: Tenant, data: dict[str, Any]) -> Campaign:
    rows = Campaign.objects.for_tenant(tenant).select_for_update()
    return _row(rows, data.get("campaign_id"), "campaign")


@transaction.atomic
def campaign_budget_set(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    try:
        budget = Decimal(str(data["new_daily_budget"])).quantize(Decimal("0.01"))
    except (KeyError, InvalidOperation):
        raise ActionFailed("The action names no valid new daily budget.") from None
    if budget < 0:
        raise ActionFailed("A daily budget cannot be negative.")
    campaign = _campaign(tenant, data)
    previous = campaign.daily_budget
    campaign.daily_budget = budget
    campaign.save(update_fields=["daily_budget"])
    return {
        "campaign_id": campaign.pk,
        "campaign": campaign.name,
        "previous_daily_budget": str(previous),
        "daily_budget": str(budget),
    }


def _campaign_status(status: str) -> Callable[[Tenant, dict[str, Any]], dict[str, Any]]:
    @transaction.atomic
    def apply(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
        campaign = _campaign(tenant, data)
        previous = campaign.status
        campaign.status = status
        campaign.save(update_fields=["status"])
        return {
            "campaign_id": campaign.pk,
            "campaign": campaign.name,
            "previous_status": previous,
            "status": status,
        }

    return apply


@transaction.atomic
def content_publish(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    rows = ContentItem.objects.for_tenant(tenant).select_for_update()
    item = _row(rows, data.get("content_id"), "content item")
    if item.status != ContentItem.Status.PUBLISHED:
        item.status = ContentItem.Status.PUBLISHED
        item.published_at = timezone.now()
        item.save(update_fields=["status", "published_at"])
    return {"content_id": item.pk, "title": item.title, "status": item.status}


def segment_export(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    """The segment's daily figures as CSV, in the tenant's exports folder."""
    rows = AudienceSegment.objects.for_tenant(tenant)
    segment = _row(rows, data.get("segment_id"), "segment")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["segment", "date", "size", "churn_risk", "ltv"])
    rows = SegmentDay.objects.filter(segment=segment).order_by("date")
    count = 0
    for row in rows.values_list("date", "size", "churn_risk", "ltv"):
        writer.writerow([segment.name, *row])
        count += 1
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    path = default_storage.save(
        f"exports/tenant-{tenant.pk}/segment-{segment.pk}-{stamp}.csv",
        ContentFile(buffer.getvalue().encode()),
    )
    return {"segment_id": segment.pk, "segment": segment.name, "rows": count, "file": path}


ACTIONS: dict[str, Callable[[Tenant, dict[str, Any]], dict[str, Any]]] = {
    ActionType.BUDGET_INCREASE: campaign_budget_set,
    ActionType.BUDGET_ALLOCATION: campaign_budget_set,
    ActionType.CAMPAIGN_PAUSE: _campaign_status(Campaign.Status.PAUSED),
    ActionType.CAMPAIGN_RESUME: _campaign_status(Campaign.Status.ACTIVE),
    # Deleting keeps the history the agents read: the campaign ends.
    ActionType.CAMPAIGN_DELETE: _campaign_status(Campaign.Status.ENDED),
    ActionType.CONTENT_PUBLISH: content_publish,
    ActionType.DATA_EXPORT: segment_export,
}
