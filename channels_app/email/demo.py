"""Demo email preferences for every demo person, and two weeks of sent briefs with their
deliveries, opens and clicks, so the console's email pages and rates have something to show.

Idempotent: preferences someone already has are left as they are (the demo may have been
played with), and a brief already recorded for a person and date is not recorded again.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, cast

from accounts.models import User
from agents.backends.builtin.common import day
from channels_app.email import schedule
from channels_app.email.models import EmailPreferences, EmailSend
from channels_app.email.services import preferences_update

HISTORY_DAYS = 14
# Who reads what: enough variety to show every format and frequency.
PREFERENCES: dict[str, dict[str, Any]] = {
    "admin": {},
    "manager": {"delivery_time": time(7, 30), "digest_format": "summary", "min_priority": "high"},
    "director": {"frequency": "weekly", "weekday": 0, "digest_format": "bullet_points"},
    "cfo": {"sections": ["paid_ads", "action_items"]},
    "maya": {},
    "leo": {
        "delivery_time": time(9, 0),
        "frequency": "custom",
        "custom_days": [0, 2, 4],
        "digest_format": "bullet_points",
    },
    "ana": {},
    "globex_admin": {"digest_format": "summary"},
}
# Staff who are not in the list above keep the briefs off: not everyone wants one.
OPEN_RATE, CLICK_RATE, BOUNCE_RATE = 0.58, 0.21, 0.02


def demo_email_seed(
    *, users: dict[str, User], now: datetime, progress: Callable[[str], None]
) -> Counter[str]:
    created: Counter[str] = Counter()
    for username, user in users.items():
        if user.tenant_id is None or EmailPreferences.objects.filter(user=user).exists():
            continue
        wanted = PREFERENCES.get(username)
        preferences_update(
            user=user, now=now, **(wanted if wanted is not None else {"enabled": False})
        )
        created["email preferences"] += 1
    for username in PREFERENCES:
        person = users.get(username)
        if person is not None:
            created["email sends"] += _history(person, now)
    if created:
        progress(
            f"  email: {created['email preferences']} preferences, {created['email sends']} sends"
        )
    return created


def _history(user: User, now: datetime) -> int:
    preferences = EmailPreferences.objects.get(user=user)
    rng = random.Random(f"engarde-demo:email:{user.username}")  # noqa: S311
    recorded = set(
        EmailSend.objects.filter(user=user, kind=EmailSend.Kind.DAILY_BRIEF).values_list(
            "brief_date", flat=True
        )
    )
    # Briefs go to tenant staff only: the demo users with preferences all have a tenant.
    tenant_id = cast(int, user.tenant_id)
    sends = []
    after = now - timedelta(days=HISTORY_DAYS)
    while (at := schedule.next_occurrence(preferences, after=after)) is not None and at < now:
        after = at
        brief_date = schedule.brief_date_of(preferences, at)
        opened, clicked, bounced = rng.random(), rng.random(), rng.random()
        if brief_date in recorded:
            continue
        send = EmailSend(
            tenant_id=tenant_id,
            user=user,
            kind=EmailSend.Kind.DAILY_BRIEF,
            template="daily_brief",
            brief_date=brief_date,
            to_email=preferences.address,
            subject=f"Your En Garde Daily Brief - {day(brief_date)}",
            status=EmailSend.Status.DELIVERED,
            esp="sendgrid",
            esp_message_id=f"demo-{user.username}-{brief_date.isoformat()}",
            data={"demo": True},
            created_at=at,
            claimed_at=at,
            sent_at=at,
            delivered_at=at + timedelta(seconds=4),
        )
        if bounced < BOUNCE_RATE:
            send.status, send.delivered_at, send.bounced_at = (
                EmailSend.Status.BOUNCED,
                None,
                at + timedelta(seconds=9),
            )
        elif opened < OPEN_RATE:
            send.opened_at = at + timedelta(minutes=rng.randint(3, 180))
            send.open_count = rng.randint(1, 3)
            if clicked < CLICK_RATE / OPEN_RATE:
                send.clicked_at = send.opened_at + timedelta(minutes=rng.randint(0, 10))
                send.click_count = rng.randint(1, 2)
        sends.append(send)
    EmailSend.objects.bulk_create(sends)
    return len(sends)
