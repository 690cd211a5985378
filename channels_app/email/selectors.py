"""Reads of the email channel that the API, the admin and the console share."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from accounts.models import Tenant
from channels_app.email.models import EmailSend


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def engagement_by_day(*, tenant: Tenant, start: date, end: date) -> list[dict[str, Any]]:
    """Per UTC day of sending, from `start` to `end` inclusive (every day, zeros included): how
    many emails the ESPs took, and how many of those were delivered, opened, clicked, bounced,
    with the open and click rates over the delivered ones. A person who opens twice counts once.
    """
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = (
        EmailSend.objects.for_tenant(tenant)
        .filter(sent_at__gte=since, sent_at__lt=until)  # sent_at: the ESP took it
        .annotate(day=TruncDate("sent_at", tzinfo=UTC))
        .values("day")
        .annotate(
            sent=Count("id"),
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
            bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        )
        .order_by("day")
    )
    found = {row["day"]: row for row in rows}
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = found.get(day, {})
        counts = {
            name: row.get(name, 0) for name in ("sent", "delivered", "opened", "clicked", "bounced")
        }
        days.append(
            {
                "date": day,
                **counts,
                "open_rate": _rate(counts["opened"], counts["delivered"]),
                "click_rate": _rate(counts["clicked"], counts["delivered"]),
                "bounce_rate": _rate(counts["bounced"], counts["sent"]),
            }
        )
    return days
