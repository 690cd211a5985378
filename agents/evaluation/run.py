"""Run the built-in agents on labelled requests and measure what they understood and did.

Each line of the set (``requests.jsonl``) is one request to one agent::

    {"text": ..., "agent": "paid_ads" | "seo" | "content" | "audience" | "personal",
     "history": [["user", ...], ["agent", ...]],   # optional: the conversation before it
     "intent": "question" | "command" | "content" | "out_of_scope",
     "slots": {...},          # only the slots that matter for the line, compared exactly
     "action": {...} | "suggestions_ok" | null,
     "figure": {...}}         # optional: a paid-ads one-metric question

Slots are compared with the parsed request (the run's ``metadata["request"]``): ``verb``,
``platform``, ``metric``, ``count``, ``content_kind``, ``channel``, ``topic``, ``confirm`` and
``choice`` as they are; ``campaign``, ``content`` and ``segment`` as the name found, or
``{"candidates": [names]}`` (any order) for an ambiguous one, or ``{"unknown": true}`` for a name
that matches nothing (optionally with its ``"suggestion"``); ``amount`` as ``{"value": "500",
"mode": "by"}`` (``per_day`` too when given); ``period`` as ``{"start": day, "end": day}``.

A day is written relative to today, never computed by the parser's own code: ``today``,
``monday`` (this week's, today on a Monday), ``last_friday`` (the last Friday before today),
``month_start``, ``prev_month_start``, ``prev_month_end``, ``quarter_start``, ``year_start``,
``prev_year_start``, ``prev_year_end``, ``latest`` (the tenant's last day of ad figures, for the
default period of a figure), or an ISO date; each may be followed by an offset in days, weeks or
months: ``today-1``, ``monday-7``, ``today-2w``, ``today-1m``.

The action expected: ``null`` when the answer must carry no action at all (a specific question,
an off-topic line, a command that cannot be carried out as asked); ``"suggestions_ok"`` when it
may carry the agent's suggestions but nothing marked requested (advice); or the one action
asked for: ``{"action_type": ..., "campaign" | "content" | "segment": name,
"new_daily_budget": "current+500" | "current-40" | "current*1.2" | "600", "requested": true}``.

A figure, ``{"metric", "platform", "campaign", "period"}``, is recomputed here from the
CampaignDay rows with the ORM and compared with ``metadata["figures"]`` (value, metric, scope and
period). A period that starts after the last day of figures expects no value ("no figures yet").
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import Tenant
from agents.backends.base import AgentContext, ContextMessage, ProposedAction
from agents.backends.builtin import BuiltinBackend
from agents.models import AudienceSegment, Campaign, CampaignDay, ContentItem, WalkerAgent
from agents.types import ActionType, AgentType

REQUESTS_PATH = Path(__file__).resolve().parent / "requests.jsonl"

AGENTS: dict[str, str] = {
    "paid_ads": AgentType.PAID_ADS,
    "seo": AgentType.SEO,
    "content": AgentType.CONTENT,
    "audience": AgentType.AUDIENCE,
    "personal": AgentType.PERSONAL,
}
INTENTS = ("question", "command", "content", "out_of_scope")
OUT_OF_SCOPE = "out_of_scope"
NAME_SLOTS = ("campaign", "content", "segment")
PLAIN_SLOTS = (
    "verb",
    "platform",
    "metric",
    "count",
    "content_kind",
    "channel",
    "topic",
    "confirm",
    "choice",
)
SLOTS = frozenset((*PLAIN_SLOTS, *NAME_SLOTS, "period", "amount"))
FIELDS = frozenset({"text", "agent", "history", "intent", "slots", "action", "figure"})
SUGGESTIONS_OK = "suggestions_ok"
ACTION_FIELDS = frozenset(
    {"action_type", "campaign", "content", "segment", "new_daily_budget", "requested"}
)
# The id each kind's action carries in its data.
TARGET_KEYS = {"campaign": "campaign_id", "content": "content_id", "segment": "segment_id"}
METRICS = frozenset({"spend", "revenue", "conversions", "roas", "cpa", "ctr"})
FIGURE_FIELDS = frozenset({"metric", "platform", "campaign", "period"})
CENT = Decimal("0.01")

DAY = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}|[a-z_]+)(?:(?P<sign>[+-])(?P<n>\d+)(?P<unit>[dwm]?))?$"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BASES = frozenset(
    {
        "today",
        "latest",
        "monday",
        "month_start",
        "prev_month_start",
        "prev_month_end",
        "quarter_start",
        "year_start",
        "prev_year_start",
        "prev_year_end",
        *(f"last_{weekday}" for weekday in WEEKDAYS),
    }
)
BUDGET = re.compile(r"^current(?:(?P<op>[-+*])(?P<n>\d+(?:\.\d+)?))?$|^(?P<value>\d+(?:\.\d+)?)$")


class LabelError(ValueError):
    """A line of the set that cannot be read."""


@dataclass(frozen=True)
class Case:
    line: int
    text: str
    agent: str  # a key of AGENTS
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    action: dict[str, Any] | str | None = None
    figure: dict[str, Any] | None = None
    history: tuple[tuple[str, str], ...] = ()


# Reading the set


def load_cases(path: Path = REQUESTS_PATH) -> list[Case]:
    """The labelled requests of a JSONL file (blank lines skipped); a bad line raises LabelError
    naming it."""
    cases = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelError(f"{path.name}:{number}: not JSON ({exc.msg})") from exc
            try:
                cases.append(case_of(row, number))
            except LabelError as exc:
                raise LabelError(f"{path.name}:{number}: {exc}") from exc
    if not cases:
        raise LabelError(f"{path} holds no requests")
    return cases


def case_of(row: Any, line: int = 0) -> Case:
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise LabelError("expected an object with a text")
    if unknown := set(row) - FIELDS:
        raise LabelError(f"unknown fields {sorted(unknown)}")
    agent, intent = row.get("agent"), row.get("intent")
    if agent not in AGENTS:
        raise LabelError(f"unknown agent {agent!r}")
    if intent not in INTENTS:
        raise LabelError(f"unknown intent {intent!r}")
    slots = row.get("slots", {})
    if not isinstance(slots, dict) or (unknown := set(slots) - SLOTS):
        raise LabelError(f"unknown slots in {slots!r}")
    if slots.get("period") is not None:
        _check_period(slots["period"])
    for kind in NAME_SLOTS:
        if kind in slots:
            _check_name(slots[kind])
    if "action" not in row:
        raise LabelError('every line states its action: null, "suggestions_ok" or an object')
    action = row["action"]
    _check_action(action)
    figure = row.get("figure")
    if figure is not None:
        if not isinstance(figure, dict) or set(figure) != FIGURE_FIELDS:
            raise LabelError(f"a figure has exactly {sorted(FIGURE_FIELDS)}")
        if figure["metric"] not in METRICS:
            raise LabelError(f"unknown figure metric {figure['metric']!r}")
        _check_period(figure["period"])
    history = row.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(turn, list) and len(turn) == 2 and turn[0] in ("user", "agent")
        for turn in history
    ):
        raise LabelError('history is a list of ["user" | "agent", text] pairs')
    return Case(
        line=line,
        text=row["text"],
        agent=agent,
        intent=intent,
        slots=slots,
        action=action,
        figure=figure,
        history=tuple((str(role), str(said)) for role, said in history),
    )


def _check_period(period: Any) -> None:
    if not isinstance(period, dict) or set(period) != {"start", "end"}:
        raise LabelError(f'a period is {{"start", "end"}}, not {period!r}')
    for expression in period.values():
        match = DAY.match(str(expression))
        if match is None or (
            match.group("base") not in BASES and not match.group("base")[:1].isdigit()
        ):
            raise LabelError(f"unknown day {expression!r}")


def _check_name(name: Any) -> None:
    if name is None or isinstance(name, str):
        return
    if isinstance(name, dict) and isinstance(name.get("candidates"), list) and len(name) == 1:
        return
    if (
        isinstance(name, dict)
        and name.get("unknown") is True
        and set(name) <= {"unknown", "suggestion"}
    ):
        return
    raise LabelError(f'a name is a name, {{"candidates": [...]}} or {{"unknown": true}}: {name!r}')


def _check_action(action: Any) -> None:
    if action is None or action == SUGGESTIONS_OK:
        return
    if not isinstance(action, dict) or set(action) - ACTION_FIELDS:
        raise LabelError(f"an action is null, {SUGGESTIONS_OK!r} or an object, not {action!r}")
    if action.get("action_type") not in ActionType.values:
        raise LabelError(f"unknown action type {action.get('action_type')!r}")
    budget = action.get("new_daily_budget")
    if budget is not None and not BUDGET.match(str(budget)):
        raise LabelError(f"unknown budget {budget!r}")


# Days relative to today


@dataclass(frozen=True)
class Calendar:
    today: date
    latest: date | None  # the tenant's last day of ad figures

    def day(self, expression: str) -> date:
        match = DAY.match(expression)
        if match is None:
            raise LabelError(f"unknown day {expression!r}")
        day = self._base(match.group("base"))
        if match.group("sign"):
            n = int(match.group("n")) * (1 if match.group("sign") == "+" else -1)
            unit = match.group("unit") or "d"
            if unit == "m":
                day = _add_months(day, n)
            else:
                day += timedelta(days=n * (7 if unit == "w" else 1))
        return day

    def period(self, period: dict[str, str]) -> tuple[date, date]:
        return self.day(period["start"]), self.day(period["end"])

    def _base(self, base: str) -> date:
        today = self.today
        if base[:1].isdigit():
            return date.fromisoformat(base)
        if base == "today":
            return today
        if base == "latest":
            if self.latest is None:
                raise LabelError("'latest' needs ad figures")
            return self.latest
        if base == "monday":
            return today - timedelta(days=today.weekday())
        if base.startswith("last_") and base[5:] in WEEKDAYS:
            back = (today.weekday() - WEEKDAYS.index(base[5:])) % 7 or 7
            return today - timedelta(days=back)
        month_start = today.replace(day=1)
        if base == "month_start":
            return month_start
        if base == "prev_month_end":
            return month_start - timedelta(days=1)
        if base == "prev_month_start":
            return (month_start - timedelta(days=1)).replace(day=1)
        if base == "quarter_start":
            return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if base == "year_start":
            return date(today.year, 1, 1)
        if base == "prev_year_start":
            return date(today.year - 1, 1, 1)
        if base == "prev_year_end":
            return date(today.year - 1, 12, 31)
        raise LabelError(f"unknown day {base!r}")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# Scoring


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def share(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def __str__(self) -> str:
        if not self.total:
            return "n/a"
        return f"{100.0 * self.share:.1f}% ({self.hits}/{self.total})"


@dataclass(frozen=True)
class Outcome:
    case: Case
    answer: str
    intent: str
    slot_misses: tuple[str, ...]
    action_ok: bool
    action_miss: str
    figure_ok: bool | None  # None: the line labels no figure
    figure_miss: str
    unrequested: bool  # a requested action nobody asked for
    off_topic_action: bool  # any action at all on an off-topic line

    @property
    def intent_ok(self) -> bool:
        return self.intent == self.case.intent

    @property
    def slots_ok(self) -> bool:
        return not self.slot_misses

    @property
    def ok(self) -> bool:
        return (
            self.intent_ok
            and self.slots_ok
            and self.action_ok
            and self.figure_ok is not False
            and not self.unrequested
            and not self.off_topic_action
        )

    def misses(self) -> list[str]:
        found = []
        if not self.intent_ok:
            found.append(f"intent: expected {self.case.intent}, got {self.intent}")
        found += [f"slot {miss}" for miss in self.slot_misses]
        if not self.action_ok:
            found.append(f"action: {self.action_miss}")
        if self.figure_ok is False:
            found.append(f"figure: {self.figure_miss}")
        if self.unrequested:
            found.append("an action marked requested that was not asked for")
        if self.off_topic_action:
            found.append("an action on an off-topic line")
        return found


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...]

    def of(self, agent: str) -> Report:
        return Report(tuple(o for o in self.outcomes if o.case.agent == agent))

    @property
    def intent(self) -> Rate:
        return Rate(sum(o.intent_ok for o in self.outcomes), len(self.outcomes))

    @property
    def slots(self) -> Rate:
        labelled = [o for o in self.outcomes if o.case.slots]
        return Rate(sum(o.slots_ok for o in labelled), len(labelled))

    @property
    def actions(self) -> Rate:
        return Rate(sum(o.action_ok for o in self.outcomes), len(self.outcomes))

    @property
    def figures(self) -> Rate:
        labelled = [o for o in self.outcomes if o.figure_ok is not None]
        return Rate(sum(bool(o.figure_ok) for o in labelled), len(labelled))

    @property
    def unrequested(self) -> Rate:
        """Lines whose answer carries a requested action nobody asked for (lower is better)."""
        return Rate(sum(o.unrequested for o in self.outcomes), len(self.outcomes))

    @property
    def off_topic_actions(self) -> Rate:
        """Off-topic lines whose answer carries any action (lower is better)."""
        off = [o for o in self.outcomes if o.case.intent == OUT_OF_SCOPE]
        return Rate(sum(o.off_topic_action for o in off), len(off))

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


class EvaluationError(Exception):
    """The evaluation cannot run on this tenant (an agent of the catalogue is missing)."""


@dataclass
class _Tenant:
    """What the checks look up by name, and back by id for the misses."""

    tenant: Tenant
    ids: dict[str, dict[str, int]]
    budgets: dict[str, Decimal]
    calendar: Calendar

    @classmethod
    def of(cls, tenant: Tenant, today: date) -> _Tenant:
        campaigns = Campaign.objects.for_tenant(tenant)
        latest = CampaignDay.objects.filter(campaign__tenant=tenant).aggregate(d=Max("date"))["d"]
        return cls(
            tenant=tenant,
            ids={
                "campaign": dict(campaigns.values_list("name", "pk")),
                "content": dict(ContentItem.objects.for_tenant(tenant).values_list("title", "pk")),
                "segment": dict(
                    AudienceSegment.objects.for_tenant(tenant).values_list("name", "pk")
                ),
            },
            budgets=dict(campaigns.values_list("name", "daily_budget")),
            calendar=Calendar(today=today, latest=latest),
        )

    def id_of(self, kind: str, name: str) -> int:
        try:
            return self.ids[kind][name]
        except KeyError:
            raise LabelError(f"no {kind} called {name!r} for {self.tenant.slug}") from None

    def name_of(self, kind: str, pk: Any) -> str:
        names = {pk: name for name, pk in self.ids[kind].items()}
        return names.get(pk, f"#{pk}")


def evaluate(
    tenant: Tenant,
    cases: Iterable[Case],
    *,
    today: date | None = None,
    backend: BuiltinBackend | None = None,
) -> Report:
    """Every case through the built-in backend on the tenant's data, scored."""
    today = today or timezone.localdate()
    backend = backend or BuiltinBackend()
    known = _Tenant.of(tenant, today)
    agents = {agent.agent_type: agent for agent in WalkerAgent.objects.all()}
    if missing := set(AGENTS.values()) - set(agents):
        raise EvaluationError(f"the agent catalogue lacks {sorted(missing)}: run migrate")
    outcomes = []
    for case in cases:
        context = AgentContext(
            tenant=tenant, messages=tuple(ContextMessage(role, said) for role, said in case.history)
        )
        result = backend.run(agents[AGENTS[case.agent]], case.text, context)
        outcomes.append(_score(case, result.text, result.actions, result.metadata, known))
    return Report(tuple(outcomes))


def _score(
    case: Case,
    answer: str,
    actions: Sequence[ProposedAction],
    metadata: dict[str, Any],
    known: _Tenant,
) -> Outcome:
    request = metadata.get("request") or {}
    action_ok, action_miss, unrequested = _check_actions(case, actions, known)
    figure_ok, figure_miss = (None, "")
    if case.figure is not None:
        figure_ok, figure_miss = _check_figure(case.figure, metadata.get("figures") or {}, known)
    return Outcome(
        case=case,
        answer=answer,
        intent=str(request.get("intent")),
        slot_misses=tuple(_slot_misses(case.slots, request, known.calendar)),
        action_ok=action_ok,
        action_miss=action_miss,
        figure_ok=figure_ok,
        figure_miss=figure_miss,
        unrequested=unrequested,
        off_topic_action=case.intent == OUT_OF_SCOPE and bool(actions),
    )


def _slot_misses(
    expected: dict[str, Any], request: dict[str, Any], days: Calendar
) -> Iterable[str]:
    for slot, wanted in expected.items():
        got = request.get(slot)
        if slot in NAME_SLOTS:
            ok, shown = _name_matches(wanted, got)
        elif slot == "period":
            ok, shown = _period_matches(wanted, got, days)
        elif slot == "amount":
            ok, shown = _amount_matches(wanted, got)
        else:
            ok, shown = got == wanted, got
        if not ok:
            yield f"{slot}: expected {wanted!r}, got {shown!r}"


def _name_matches(wanted: Any, got: dict[str, Any] | None) -> tuple[bool, Any]:
    found = (got or {}).get("found")
    candidates = sorted(c["name"] for c in (got or {}).get("candidates", []))
    asked = (got or {}).get("asked", "")
    suggestion = ((got or {}).get("suggestion") or {}).get("name")
    if found:
        shown: Any = found["name"]
    elif candidates:
        shown = {"candidates": candidates}
    elif asked:
        shown = {"unknown": True, "asked": asked, "suggestion": suggestion}
    else:
        shown = None
    if wanted is None:
        return shown is None, shown
    if isinstance(wanted, str):
        return shown == wanted, shown
    if "candidates" in wanted:
        return not found and candidates == sorted(wanted["candidates"]), shown
    ok = not found and not candidates and bool(asked)
    if ok and "suggestion" in wanted:
        ok = suggestion == wanted["suggestion"]
    return ok, shown


def _period_matches(
    wanted: dict[str, str] | None, got: dict[str, Any] | None, days: Calendar
) -> tuple[bool, Any]:
    shown = (got["start"], got["end"]) if got else None
    if wanted is None:
        return got is None, shown
    start, end = days.period(wanted)
    return shown == (start.isoformat(), end.isoformat()), shown


def _amount_matches(wanted: dict[str, Any] | None, got: dict[str, Any] | None) -> tuple[bool, Any]:
    if wanted is None or got is None:
        return wanted is got, got
    try:
        same = Decimal(str(wanted["value"])) == Decimal(str(got["value"]))
    except (InvalidOperation, KeyError):
        return False, got
    same = same and wanted.get("mode") == got.get("mode")
    if "per_day" in wanted:
        same = same and wanted["per_day"] == got.get("per_day")
    return same, {"value": got["value"], "mode": got["mode"]}


def _check_actions(
    case: Case, actions: Sequence[ProposedAction], known: _Tenant
) -> tuple[bool, str, bool]:
    """(action accuracy, what was wrong, a requested action nobody asked for)."""
    requested = [a for a in actions if a.requested]
    expected = case.action
    shown = "; ".join(_describe(a, known) for a in actions) or "none"
    if not isinstance(expected, dict):
        if expected is None:
            ok = not actions
            miss = f"expected no action, got {shown}"
        else:
            ok = not requested
            miss = f"expected suggestions at most, got {shown}"
        return ok, "" if ok else miss, bool(requested)
    wanted_requested = bool(expected.get("requested", True))
    matching = [a for a in actions if _matches(a, expected, known)]
    unrequested = any(a not in matching for a in requested) if wanted_requested else bool(requested)
    if wanted_requested:
        ok = len(actions) == 1 and bool(matching)
    else:
        ok = bool(matching) and not requested
    miss = "" if ok else f"expected {_describe_expected(expected, known)}, got {shown}"
    return ok, miss, unrequested


def _matches(action: ProposedAction, expected: dict[str, Any], known: _Tenant) -> bool:
    if action.action_type != expected["action_type"]:
        return False
    if action.requested != bool(expected.get("requested", True)):
        return False
    for kind, key in TARGET_KEYS.items():
        if kind in expected and action.data.get(key) != known.id_of(kind, expected[kind]):
            return False
    if "new_daily_budget" in expected:
        budget = _budget(expected, known)
        try:
            got = Decimal(str(action.data.get("new_daily_budget"))).quantize(CENT)
        except InvalidOperation:
            return False
        if got != budget:
            return False
    return True


def _budget(expected: dict[str, Any], known: _Tenant) -> Decimal:
    match = BUDGET.match(str(expected["new_daily_budget"]))
    if match is None:
        raise LabelError(f"unknown budget {expected['new_daily_budget']!r}")
    if match.group("value"):
        return Decimal(match.group("value")).quantize(CENT)
    name = expected.get("campaign")
    if name not in known.budgets:
        raise LabelError(f"a budget relative to 'current' needs a known campaign, not {name!r}")
    current = known.budgets[name]
    op, n = match.group("op"), Decimal(match.group("n") or "0")
    value = {"+": current + n, "-": current - n, "*": current * n}.get(op or "", current)
    return value.quantize(CENT)


def _describe(action: ProposedAction, known: _Tenant) -> str:
    parts = [action.action_type]
    for kind, key in TARGET_KEYS.items():
        if key in action.data:
            parts.append(f"{kind}={known.name_of(kind, action.data[key])}")
    if "new_daily_budget" in action.data:
        parts.append(f"new_daily_budget={action.data['new_daily_budget']}")
    parts.append("requested" if action.requested else "suggested")
    return " ".join(parts)


def _describe_expected(expected: dict[str, Any], known: _Tenant) -> str:
    parts = [str(expected["action_type"])]
    parts += [f"{kind}={expected[kind]}" for kind in TARGET_KEYS if kind in expected]
    if "new_daily_budget" in expected:
        parts.append(f"new_daily_budget={_budget(expected, known)}")
    parts.append("requested" if expected.get("requested", True) else "suggested")
    return " ".join(parts)


def expected_figure(figure: dict[str, Any], known: _Tenant) -> Decimal | int | None:
    """The figure recomputed from the rows; None where there is none to give (no figures yet
    for the period, no conversions for a CPA, no impressions for a CTR)."""
    start, end = known.calendar.period(figure["period"])
    latest = known.calendar.latest
    if latest is None or start > latest:
        return None
    rows = CampaignDay.objects.filter(campaign__tenant=known.tenant, date__range=(start, end))
    if figure["platform"]:
        rows = rows.filter(campaign__platform=figure["platform"])
    if figure["campaign"]:
        rows = rows.filter(campaign_id=known.id_of("campaign", figure["campaign"]))
    sums = rows.aggregate(
        spend=Sum("spend"),
        revenue=Sum("revenue"),
        conversions=Sum("conversions"),
        clicks=Sum("clicks"),
        impressions=Sum("impressions"),
    )
    spend = sums["spend"] or Decimal("0")
    revenue = sums["revenue"] or Decimal("0")
    conversions = sums["conversions"] or 0
    metric = figure["metric"]
    if metric == "spend":
        return spend
    if metric == "revenue":
        return revenue
    if metric == "conversions":
        return conversions
    if metric == "roas":
        return (revenue / spend).quantize(CENT) if spend else None
    if metric == "cpa":
        return (spend / conversions).quantize(CENT) if conversions else None
    impressions = sums["impressions"] or 0
    return (
        (Decimal(sums["clicks"] or 0) * 100 / impressions).quantize(CENT) if impressions else None
    )


def _check_figure(
    figure: dict[str, Any], given: dict[str, Any], known: _Tenant
) -> tuple[bool, str]:
    expected = expected_figure(figure, known)
    value = given.get("value")
    misses = []
    if given.get("metric") != figure["metric"]:
        misses.append(f"metric {given.get('metric')!r} for {figure['metric']!r}")
    try:
        same = (
            value is None
            if expected is None
            else value is not None and Decimal(str(value)) == Decimal(expected)
        )
    except InvalidOperation:
        same = False
    if not same:
        misses.append(f"value {value!r} for {expected}")
    scope = given.get("scope") or {}
    if figure["campaign"]:
        if scope.get("campaign_id") != known.id_of("campaign", figure["campaign"]):
            misses.append(f"scope {scope.get('label')!r} for {figure['campaign']!r}")
    elif scope.get("platform") != figure["platform"] or scope.get("campaign_id") is not None:
        misses.append(f"scope {scope.get('label')!r} for platform {figure['platform']!r}")
    start, end = known.calendar.period(figure["period"])
    period = given.get("period") or {}
    if (period.get("start"), period.get("end")) != (start.isoformat(), end.isoformat()):
        misses.append(f"period {period.get('start')}..{period.get('end')} for {start}..{end}")
    return not misses, "; ".join(misses)
