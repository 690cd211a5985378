"""The period a message states, as dates relative to the tenant's today.

Rolling windows ("the last 7 days") end yesterday, the last complete day of data; calendar
periods ("this week", "this month") run to today. A date without a year is the latest one not
after today: in December, "Nov 3" is this year's, and in February "October" is last year's.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from agents.understanding.request import Period
from agents.understanding.text import lower
from agents.understanding.vocabulary import NUMBER_WORDS

MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_COUNT = "|".join(["\\d{1,3}", *NUMBER_WORDS, "a couple of", "a"])
_TO = r"\s*(?:to|and|-|until|till|through|thru)\s*"


def month(name: str) -> str:
    """A month name as a named group, with an optional dot after an abbreviation."""
    return rf"(?P<{name}>{_MONTH})\b\.?"


def day_of(name: str) -> str:
    return rf"(?P<{name}>\d{{1,2}})(?:st|nd|rd|th)?\b"


def year_of(name: str) -> str:
    return rf"(?:,?\s*(?P<{name}>(?:19|20)\d\d)\b)?"


@dataclass(frozen=True)
class Found:
    """A period and where the message states it, so the caller can blank those words."""

    period: Period
    start: int
    end: int


def short(day: date, today: date) -> str:
    """ "Nov 3", with the year only when it is not this year's."""
    text = f"{day:%b} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def span(start: date, end: date, today: date) -> str:
    return f"{short(start, today)} to {short(end, today)}"


def _period(start: date, end: date, label: str) -> Period:
    return Period(start=start, end=end, label=label, explicit=True)


def _latest(month_number: int, day: int, today: date) -> date:
    """The latest date with this month and day that is not after today."""
    candidate = date(today.year, month_number, day)
    return candidate if candidate <= today else date(today.year - 1, month_number, day)


def _month_end(year: int, month_number: int) -> date:
    return date(year, month_number, calendar.monthrange(year, month_number)[1])


def _months_back(today: date, count: int) -> date:
    """The same day of the month `count` months before today (or that month's last day)."""
    index = today.year * 12 + today.month - 1 - count
    year, month_number = divmod(index, 12)
    last = calendar.monthrange(year, month_number + 1)[1]
    return date(year, month_number + 1, min(today.day, last))


def _number(word: str) -> int:
    if word.isdecimal():
        return int(word)
    if word in ("a", "a couple of"):
        return 1 if word == "a" else 2
    return NUMBER_WORDS[word]


def _named_month(match: re.Match[str], today: date) -> Period | None:
    name, lead, year = match.group("m"), match.group("lead"), match.group("y")
    if name == "may" and not lead and not year:
        return None  # "may" is far more often the verb
    number = MONTHS[name]
    if year:
        start = date(int(year), number, 1)
    else:
        this_year = number < today.month or (number == today.month and lead != "last")
        start = date(today.year if this_year else today.year - 1, number, 1)
    if start > today:
        return None
    end = min(_month_end(start.year, number), today)
    label = f"{start:%B} {start.year}"
    if lead == "since":
        return _period(start, today, f"since {short(start, today)} ({span(start, today, today)})")
    if end == today:
        label = f"{label} ({span(start, end, today)})"
    return _period(start, end, label)


def _month_range(match: re.Match[str], today: date) -> Period | None:
    first, last = MONTHS[match.group("m1")], MONTHS[match.group("m2")]
    year_first, year_last = match.group("y1"), match.group("y2")
    end_year = int(year_last) if year_last else today.year
    if not year_last and last > today.month:
        end_year -= 1
    start_year = int(year_first) if year_first else end_year - (1 if first > last else 0)
    start = date(start_year, first, 1)
    end = min(_month_end(end_year, last), today)
    if end < start:
        return None
    return _period(start, end, span(start, end, today))


def _dated(year: str | None, month_name: str, day: str, today: date) -> date:
    if year:
        return date(int(year), MONTHS[month_name], int(day))
    return _latest(MONTHS[month_name], int(day), today)


def _day_range(match: re.Match[str], today: date) -> Period | None:
    groups = match.groupdict()
    first_month = groups["m1"] or groups["m2"]
    last_month = groups["m2"] or groups["m1"]
    start = _dated(groups["y1"] or groups["y2"], first_month, groups["d1"], today)
    end_year = groups["y2"] or groups["y1"]
    end = date(int(end_year) if end_year else start.year, MONTHS[last_month], int(groups["d2"]))
    if end < start:
        end = date(end.year + 1, end.month, end.day)
    return _period(start, end, span(start, end, today))


def _iso_range(match: re.Match[str], today: date) -> Period | None:
    start = date.fromisoformat(match.group("a"))
    end = date.fromisoformat(match.group("b"))
    if end < start:
        start, end = end, start
    return _period(start, end, span(start, end, today))


def _single(day: date, lead: str | None, today: date) -> Period:
    if lead in ("since", "from"):
        return _period(day, today, f"since {short(day, today)} ({span(day, today, today)})")
    return _period(day, day, short(day, today))


def _iso_day(match: re.Match[str], today: date) -> Period | None:
    return _single(date.fromisoformat(match.group("a")), match.group("lead"), today)


def _month_day(match: re.Match[str], today: date) -> Period | None:
    groups = match.groupdict()
    return _single(_dated(groups["y"], groups["m"], groups["d"], today), groups["lead"], today)


UNITS = {"d": "day", "w": "week", "m": "month", "y": "year"}


def _rolling(match: re.Match[str], today: date) -> Period | None:
    count, word = _number(match.group("n")), match.group("word")
    unit = UNITS[match.group("unit")[0]]
    if count < 1:
        return None
    end = today - timedelta(days=1)
    if unit == "day":
        start = today - timedelta(days=count)
    elif unit == "week":
        start = today - timedelta(days=7 * count)
    else:
        start = _months_back(today, count if unit == "month" else 12 * count)
    amount = f"{count} {unit}s" if count > 1 else unit
    return _period(start, end, f"the {word} {amount} ({span(start, end, today)})")


def _past_unit(match: re.Match[str], today: date) -> Period | None:
    """ "the past week": the rolling window, unlike "last week", the calendar week."""
    unit = match.group("unit")
    end = today - timedelta(days=1)
    if unit == "week":
        start = today - timedelta(days=7)
    else:
        start = _months_back(today, 1 if unit == "month" else 12)
    return _period(start, end, f"the past {unit} ({span(start, end, today)})")


def _relative_day(match: re.Match[str], today: date) -> Period | None:
    words = match.group()
    if "before" in words:
        day = today - timedelta(days=2)
        return _period(day, day, f"the day before yesterday ({short(day, today)})")
    if "yesterday" in words or "yday" in words or "night" in words:
        day = today - timedelta(days=1)
        return _period(day, day, f"yesterday ({short(day, today)})")
    return _period(today, today, f"today ({short(today, today)})")


def _week(match: re.Match[str], today: date) -> Period | None:
    monday = today - timedelta(days=today.weekday())
    words = match.group()
    if words.startswith(("this", "week to", "wtd")):
        return _period(monday, today, f"this week ({span(monday, today, today)})")
    back = 2 if "before last" in words else _number(match.group("ago") or "1")
    start = monday - timedelta(days=7 * back)
    end = start + timedelta(days=6)
    label = "last week" if back == 1 else f"{back} weeks ago"
    return _period(start, end, f"{label} ({span(start, end, today)})")


def _calendar_month(match: re.Match[str], today: date) -> Period | None:
    first = today.replace(day=1)
    if match.group().startswith(("this", "month to", "mtd", "current")):
        return _period(first, today, f"this month ({span(first, today, today)})")
    end = first - timedelta(days=1)
    start = end.replace(day=1)
    return _period(start, end, f"last month ({start:%B} {start.year})")


def _quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def _quarter_end(year: int, quarter: int) -> date:
    return _month_end(year, 3 * quarter)


def _quarter(match: re.Match[str], today: date) -> Period | None:
    current = (today.month - 1) // 3 + 1
    words = match.group()
    if words.startswith(("this", "current")):
        start = _quarter_start(today.year, current)
        return _period(start, today, f"this quarter ({span(start, today, today)})")
    if match.group("q"):
        quarter = int(match.group("q"))
        year = int(match.group("y")) if match.group("y") else today.year
        if not match.group("y") and quarter > current:
            year -= 1
        prefix = ""
    else:
        quarter, year = (current - 1, today.year) if current > 1 else (4, today.year - 1)
        prefix = "last quarter "
    start = _quarter_start(year, quarter)
    if start > today:
        return None
    end = min(_quarter_end(year, quarter), today)
    name = f"Q{quarter} {year}"
    label = f"{prefix}({name})" if prefix else f"{name} ({span(start, end, today)})"
    return _period(start, end, label)


def _year(match: re.Match[str], today: date) -> Period | None:
    words = match.group()
    if words.startswith(("this", "year to", "ytd")):
        start = date(today.year, 1, 1)
        return _period(start, today, f"this year ({span(start, today, today)})")
    year = int(match.group("y")) if match.group("y") else today.year - 1
    if year > today.year:
        return None
    start, end = date(year, 1, 1), min(date(year, 12, 31), today)
    label = f"last year ({year})" if not match.group("y") else str(year)
    return _period(start, end, label)


def _weekday(match: re.Match[str], today: date) -> Period | None:
    wanted = WEEKDAYS.index(match.group("w"))
    back = (today.weekday() - wanted) % 7 or 7
    day = today - timedelta(days=back)
    if match.group("lead") == "since":
        return _period(day, today, f"since {day:%A} ({span(day, today, today)})")
    return _period(day, day, f"{day:%A} ({short(day, today)})")


Handler = Callable[[re.Match[str], date], Period | None]

PATTERNS: list[tuple[re.Pattern[str], Handler]] = [
    (
        re.compile(
            r"\b(?:(?:from|between)\s+)?(?P<a>\d{4}-\d{2}-\d{2})"
            + _TO
            + r"(?P<b>\d{4}-\d{2}-\d{2})\b"
        ),
        _iso_range,
    ),
    (re.compile(r"\b(?:(?P<lead>since|from|on)\s+)?(?P<a>\d{4}-\d{2}-\d{2})\b"), _iso_day),
    (
        re.compile(
            r"\b(?:(?:from|between)\s+)?"
            + month("m1")
            + r"\s*"
            + day_of("d1")
            + year_of("y1")
            + _TO
            + rf"(?:{month('m2')}\s*)?"
            + day_of("d2")
            + year_of("y2")
        ),
        _day_range,
    ),
    (
        re.compile(
            r"\b(?:(?:from|between)\s+)?"
            + day_of("d1")
            + rf"(?:\s+{month('m1')})?"
            + _TO
            + day_of("d2")
            + r"\s+"
            + month("m2")
            + year_of("y2")
            + r"(?P<y1>(?!))?"
        ),
        _day_range,
    ),
    (
        re.compile(
            r"\b(?:(?:from|between)\s+)?"
            + month("m1")
            + r"(?:\s+(?P<y1>\d{4}))?"
            + r"\s+(?:to|and|through|until|-)\s+"
            + month("m2")
            + r"(?:\s+(?P<y2>\d{4}))?\b"
        ),
        _month_range,
    ),
    (
        re.compile(
            r"\b(?:(?P<lead>since|from|on)\s+)?(?:the\s+)?"
            + month("m")
            + r"\s*"
            + day_of("d")
            + year_of("y")
        ),
        _month_day,
    ),
    (
        re.compile(
            r"\b(?:(?P<lead>since|from|on)\s+)?(?:the\s+)?"
            + day_of("d")
            + r"\s+(?:of\s+)?"
            + month("m")
            + year_of("y")
        ),
        _month_day,
    ),
    (
        re.compile(
            r"\b(?:(?P<lead>in|during|for|of|since|from|last|this|through|throughout)\s+)?"
            + month("m")
            + r"(?:\s+(?P<y>(?:19|20)\d\d)\b)?"
        ),
        _named_month,
    ),
    (
        re.compile(
            rf"\b(?:the\s+)?(?P<word>last|past|previous|prior)\s+(?P<n>{_COUNT})\s+"
            r"(?P<unit>day|week|wk|month|mo|year|yr)s?\b"
        ),
        _rolling,
    ),
    (
        # Written short: "last 30d", "past 2wks", "last 3 mos".
        re.compile(
            r"\b(?:the\s+)?(?P<word>last|past|previous|prior)\s+(?P<n>\d{1,3})\s*"
            r"(?P<unit>d|w|wk|m|mo|y|yr)s?\b"
        ),
        _rolling,
    ),
    (re.compile(r"\b(?:the\s+)?past\s+(?P<unit>week|month|year)\b"), _past_unit),
    (
        re.compile(
            r"\b(?:the day before yesterday|yesterday|yday|last night|today|this morning|tonight)\b"
        ),
        _relative_day,
    ),
    (
        re.compile(
            r"\b(?:this (?:week|wk)|week to date|wtd|(?:last|previous|prior) (?:week|wk)"
            r"|(?:the )?week before last"
            rf"|(?P<ago>\d|{'|'.join(NUMBER_WORDS)}) weeks ago)\b"
        ),
        _week,
    ),
    (
        re.compile(
            r"\b(?:this month|current month|month to date|mtd|(?:last|previous|prior) month)\b"
        ),
        _calendar_month,
    ),
    (
        re.compile(
            r"\b(?:(?:this|current) quarter|(?:last|previous|prior) quarter"
            r"|q(?P<q>[1-4])(?:\s+(?P<y>(?:19|20)\d\d))?)\b"
        ),
        _quarter,
    ),
    (
        re.compile(
            r"\b(?:this year|year to date|ytd|(?:last|previous|prior) year"
            r"|(?:in|during|for|of)\s+(?P<y>(?:19|20)\d\d))\b"
        ),
        _year,
    ),
    (
        # A weekday needs a lead: "Black Friday" is no period.
        re.compile(rf"\b(?P<lead>on|last|since|this past)\s+(?P<w>{'|'.join(WEEKDAYS)})\b"),
        _weekday,
    ),
]


def find_period(text: str, today: date) -> Found | None:
    """The first period the text states (the longest, where two start together)."""
    lowered = lower(text)
    found: list[Found] = []
    for pattern, handler in PATTERNS:
        for match in pattern.finditer(lowered):
            try:
                period = handler(match, today)
            except ValueError:  # "Feb 30"
                continue
            if period is not None:
                found.append(Found(period, match.start(), match.end()))
    if not found:
        return None
    return min(found, key=lambda item: (item.start, -(item.end - item.start)))


# "and the week before?": the period before the one the conversation is about. Not "the week
# before last" nor "the day before yesterday", which state their own period.
BEFORE = re.compile(
    r"\b(?:the\s+)?(?P<unit>day|week|month|year)\s+(?:before|earlier|prior)\b"
    r"(?!\s+(?:last|yesterday))"
)


def find_before(text: str, earlier: Period, today: date) -> Found | None:
    """ "the week before", read against the period of the previous message: the week (day,
    month, year) just before it starts."""
    match = BEFORE.search(lower(text))
    if match is None:
        return None
    unit = match.group("unit")
    if unit == "day":
        start = end = earlier.start - timedelta(days=1)
    elif unit == "week":
        start, end = earlier.start - timedelta(days=7), earlier.start - timedelta(days=1)
    elif unit == "month":
        end = earlier.start.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
    else:
        start, end = date(earlier.start.year - 1, 1, 1), date(earlier.start.year - 1, 12, 31)
    dates = short(start, today) if start == end else span(start, end, today)
    label = f"the {unit} before ({dates})"
    return Found(_period(start, end, label), match.start(), match.end())


def period_resolve(text: str, today: date) -> Period | None:
    """The period stated in the text, else None (the answerer then picks and says its own)."""
    found = find_period(text, today)
    return found.period if found else None
