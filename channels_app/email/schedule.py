"""When briefs go out: the delivery time is a wall-clock time in the person's time zone, so its
UTC instant moves with daylight saving time.

Two local times need a rule. On the spring-forward day a time inside the skipped hour (02:30 in
New York) does not exist: the brief goes out when the clocks have moved on, one hour later by
the wall clock (03:30). On the fall-back day a time inside the repeated hour (01:30) happens
twice: the brief goes out at the first one, and only once, because the next occurrence is always
looked for strictly after the last one.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol


class Schedule(Protocol):
    delivery_time: time
    time_zone: str

    @property
    def weekdays(self) -> frozenset[int]: ...


def local_instant(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant of `at` on `day` in `zone`, with the rules above.

    zoneinfo gives a time in a gap the offset from before the gap (fold=0), so its UTC instant
    is already "the same time on the old clock", that is one hour later on the new one; an
    ambiguous time with fold=0 is its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_occurrence(schedule: Schedule, *, after: datetime) -> datetime | None:
    """The first delivery strictly after `after` (aware), or None when no weekday is chosen."""
    days = schedule.weekdays
    if not days:
        return None
    zone = zoneinfo.ZoneInfo(schedule.time_zone)
    start = after.astimezone(zone).date() - timedelta(days=1)
    # A week and two days covers every weekday whatever the offset between UTC and local dates.
    for offset in range(9):
        day = start + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        instant = local_instant(day, schedule.delivery_time, zone)
        if instant > after:
            return instant
    return None


def latest_occurrence(schedule: Schedule, *, since: datetime, until: datetime) -> datetime:
    """The last delivery in [since, until], `since` being a delivery itself: after a scheduler
    outage, the brief that goes out is today's, never one of the days missed."""
    latest = since
    while (following := next_occurrence(schedule, after=latest)) is not None and following <= until:
        latest = following
    return latest


def brief_date_of(schedule: Schedule, instant: datetime) -> date:
    """The local date a delivery belongs to: the date the brief is for."""
    return instant.astimezone(zoneinfo.ZoneInfo(schedule.time_zone)).date()
