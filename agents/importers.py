"""CSV import of the marketing data, one format per kind, shared by the admin and the API.

Every file: UTF-8 (with or without a byte-order mark), comma-separated, one header row, then one
row per record. Header names are matched without regard to case, spaces or hyphens
("Search Volume" is `search_volume`). A column the format does not know is rejected, so a typo
in an optional column's name cannot drop its data silently. Columns may come in any order.
A `?` marks an optional column:

    campaigns: platform, campaign, date, spend, impressions, clicks, conversions, revenue,
        daily_budget?, target_roas?, status?
    keywords: keyword, date, position, search_volume, url?
    pages: url, date, sessions, organic_sessions, conversions?
    content: title, kind, channel, topic?, status?, published_at?, impressions?, engagements?,
        clicks?, shares?
    segments: segment, date, size, churn_risk, ltv, description?

Values: dates are YYYY-MM-DD; `published_at` is an ISO 8601 date or date-time (UTC when it
has no offset); money and ratios are plain decimals ("1234.50", no currency sign or thousands
separator); counts are whole numbers. Choices (`platform`, `kind`, `status`) take the stored
value or the label in any case: "google_ads", "Google Ads" and "GOOGLE-ADS" are one platform.
The limits of `KINDS[...].columns` (ranges, lengths, decimal places) come from the models.

What a row means:
- `campaigns`: the campaign (platform + name) on one day. The Campaign is created or updated,
  and its day row (campaign + date) too. A campaign's `daily_budget`, `target_roas` and `status`
  are taken from its latest-dated row that gives them; a new campaign needs a `daily_budget` on
  at least one row.
- `keywords`: a keyword's position on one day (keyword + date); `pages`: a page's sessions on
  one day (url + date); `content`: one content item (kind + title); `segments`: a segment on one
  day (segment + date), creating the segment when it is new.
- A blank optional cell means "not given": an existing row keeps its stored value and a new
  row gets the model's default.

Rules: the tenant is the importer's, never the file's. Every row is checked (types, ranges,
choices, the models' constraints: clicks <= impressions, organic sessions <= sessions, churn
risk 0 to 1, position 1 to 100, published content has a date); two rows for the same record are
an error. All or nothing: if any row is invalid, nothing is written, and the errors name the row
(the header is row 1, as a spreadsheet numbers it) and the column. Importing the same file again
changes nothing. Limits: 5 MB and 50,000 rows per file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from typing import IO, Any, Generic, TypeVar, cast

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import Tenant
from agents.models import (
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    Platform,
    SegmentDay,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
# Enough to fix a file by; a file wrong in every row would otherwise answer 50,000 errors.
MAX_REPORTED_ERRORS = 100

M = TypeVar("M", bound=models.Model)


class ImportRejected(Exception):
    """Nothing was written. `rows` holds the first row errors; `code` is "invalid" or
    "too_large"; `fields` adds what the problem concerns (missing or unknown columns)."""

    def __init__(
        self,
        detail: str,
        *,
        rows: list[RowError] | None = None,
        error_count: int = 0,
        code: str = "invalid",
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rows = rows or []
        self.error_count = error_count or len(self.rows)
        self.code = code
        self.fields = fields or {}

    def as_fields(self) -> dict[str, Any]:
        """The `fields` of the API's error body."""
        body = dict(self.fields)
        if self.rows:
            body["rows"] = [error.as_dict() for error in self.rows]
            body["error_count"] = self.error_count
        return body


@dataclass(frozen=True)
class RowError:
    row: int
    field: str | None  # None: the whole row
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    kind: str
    tenant: Tenant
    rows: int
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=dict)  # by model name ("campaignday")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "tenant": self.tenant.slug,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "counts": {name: counts.as_dict() for name, counts in self.counts.items()},
        }

    def summary(self) -> str:
        names = {model._meta.model_name: model._meta.verbose_name_plural for model in _MODELS}
        return "; ".join(
            f"{names[name]}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in self.counts.items()
        )


# Row fields: Django form fields, built from the model fields where a column maps onto one, so
# the import accepts exactly what the model does (lengths, digits, ranges).


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


class ChoiceColumn(forms.ChoiceField):
    """A choice given as its value or its label, in any case and spacing."""

    def __init__(
        self,
        choices: Iterable[tuple[str, str]],
        *,
        aliases: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        choices = list(choices)
        values = ", ".join(value for value, _ in choices)
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": f"'%(value)s' is not one of: {values}."},
        )
        super().__init__(choices=choices, **kwargs)
        self.values = tuple(value for value, _ in choices)
        self.lookup = {_squash(value): value for value, _ in choices}
        self.lookup.update({_squash(str(label)): value for value, label in choices})
        self.lookup.update({_squash(alias): value for alias, value in (aliases or {}).items()})

    def to_python(self, value: Any) -> str:
        text = super().to_python(value).strip()
        return self.lookup.get(_squash(text), text) if text else text


def _model_field(model: type[models.Model], name: str, **kwargs: Any) -> forms.Field:
    # The formats name concrete columns, none of them automatic: each has a form field.
    model_field = cast(models.Field, model._meta.get_field(name))
    form_field = cast(forms.Field, model_field.formfield(**kwargs))
    # The form field checks lengths and digits; the model's own validators (position 1 to 100,
    # money >= 0, the database's integer range) are added, without repeating one it has.
    form_field.validators = [
        *form_field.validators,
        *(v for v in model_field.validators if v not in form_field.validators),
    ]
    return form_field


def _date() -> forms.DateField:
    return forms.DateField(
        input_formats=["%Y-%m-%d"], error_messages={"invalid": "Enter a date as YYYY-MM-DD."}
    )


@dataclass(frozen=True)
class Column:
    """A column of a format, described for people (the admin page, the API docs)."""

    name: str
    required: bool
    type: str  # text, integer, decimal, date, datetime, choice
    description: str
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "required": self.required,
            "type": self.type,
            "description": self.description,
            **({"choices": list(self.choices)} if self.choices else {}),
        }


def _limits(form_field: forms.Field) -> str:
    low = high = None
    for validator in form_field.validators:
        if isinstance(validator, validators.MinValueValidator):
            low = validator.limit_value if low is None else max(low, validator.limit_value)
        elif isinstance(validator, validators.MaxValueValidator):
            high = validator.limit_value if high is None else min(high, validator.limit_value)
    # The database's integer range says nothing a person needs to know.
    if high is not None and high >= 2**31 - 1:
        high = None
    if low is not None and high is not None:
        return f", from {low} to {high}"
    if low is not None:
        return f", {low} or more"
    return ""


def _describe(name: str, form_field: forms.Field) -> Column:
    column = _column(name, form_field)
    if form_field.help_text:
        return replace(column, description=f"{column.description}. {form_field.help_text}")
    return column


def _column(name: str, form_field: forms.Field) -> Column:
    required = form_field.required
    if isinstance(form_field, ChoiceColumn):
        values = form_field.values
        return Column(name, required, "choice", f"one of {', '.join(values)}", values)
    if isinstance(form_field, forms.DateTimeField):
        return Column(name, required, "datetime", "ISO 8601 date or date-time (UTC if no offset)")
    if isinstance(form_field, forms.DateField):
        return Column(name, required, "date", "date, YYYY-MM-DD")
    if isinstance(form_field, forms.DecimalField):
        places = form_field.decimal_places
        text = f"decimal, up to {places} decimal places{_limits(form_field)}"
        return Column(name, required, "decimal", text)
    if isinstance(form_field, forms.IntegerField):
        return Column(name, required, "integer", f"whole number{_limits(form_field)}")
    length = getattr(form_field, "max_length", None)
    return Column(name, required, "text", f"text, up to {length} characters")


# Cross-field rules: the models' check constraints, as a person reads them.

Values = dict[str, Any]
Check = Callable[[Values], dict[str, str]]


def _not_more(part: str, whole: str) -> Check:
    def check(values: Values) -> dict[str, str]:
        low, high = values.get(part), values.get(whole)
        if low is not None and high is not None and low > high:
            return {part: f"{part} ({low}) is more than {whole} ({high})."}
        return {}

    return check


# Writing: one plan per model, against the rows already stored, keyed by the natural key.


class _Plan(Generic[M]):
    """`unique`: the model's natural key fields, for rows that nothing refers to (the daily
    ones). Their changes are written as INSERT ... ON CONFLICT DO UPDATE, which is many times
    faster than bulk_update's CASE per row when a file corrects thousands of days."""

    def __init__(
        self,
        model: type[M],
        existing: Iterable[tuple[Hashable, M]],
        *,
        unique: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.unique = unique
        self.rows: dict[Hashable, M] = dict(existing)
        self.created: list[M] = []
        self.updated: dict[Hashable, M] = {}
        self.changed_fields: set[str] = set()
        self.touched: set[Hashable] = set()

    def upsert(self, key: Hashable, *, create: Values, values: Values) -> M:
        """`create`: the key fields (and parents) of a new row; `values`: the given values."""
        self.touched.add(key)
        obj = self.rows.get(key)
        if obj is None:
            obj = self.model(**create, **values)
            self.rows[key] = obj
            self.created.append(obj)
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            self.updated[key] = obj
            self.changed_fields.update(changed)
        return obj

    def counts(self) -> Counts:
        return Counts(
            created=len(self.created),
            updated=len(self.updated),
            unchanged=len(self.touched) - len(self.created) - len(self.updated),
        )

    def save(self) -> None:
        manager = self.model._default_manager
        manager.bulk_create(self.created, batch_size=1000)
        if not self.updated:
            return
        changed = list(self.updated.values())
        if not self.unique:
            manager.bulk_update(changed, sorted(self.changed_fields), batch_size=500)
            return
        for obj in changed:
            obj.pk = None  # the conflict on the natural key finds the stored row
        manager.bulk_create(
            changed,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=list(self.unique),
            update_fields=sorted(self.changed_fields),
        )


@dataclass(frozen=True)
class Row:
    number: int
    values: Values

    def given(self, *names: str) -> Values:
        """The optional values this row gives (a blank cell gives nothing)."""
        return {
            name: self.values[name] for name in names if self.values.get(name) not in (None, "")
        }


def _date_range(rows: list[Row]) -> tuple[date, date]:
    dates = [row.values["date"] for row in rows]
    return min(dates), max(dates)


def _latest_given(rows: list[Row], *names: str) -> Values:
    """Per optional column, the value of the latest-dated row that gives it."""
    values: Values = {}
    for row in sorted(rows, key=lambda r: (r.values["date"], r.number)):
        values.update(row.given(*names))
    return values


def _write_campaigns(tenant: Tenant, rows: list[Row], errors: list[RowError]) -> list[_Plan[Any]]:
    by_campaign: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        by_campaign.setdefault((row.values["platform"], row.values["campaign"]), []).append(row)
    campaigns = _Plan(
        Campaign,
        (((c.platform, c.name), c) for c in Campaign.objects.filter(tenant=tenant)),
    )
    for key, group in by_campaign.items():
        values = _latest_given(group, "daily_budget", "target_roas", "status")
        if key not in campaigns.rows and "daily_budget" not in values:
            first = min(row.number for row in group)
            errors.append(
                RowError(first, "daily_budget", f"{key[1]} is a new campaign: give its budget.")
            )
            continue
        campaigns.upsert(
            key, create={"tenant": tenant, "platform": key[0], "name": key[1]}, values=values
        )
    low, high = _date_range(rows)
    stored_days = CampaignDay.objects.filter(
        campaign__tenant=tenant, date__range=(low, high)
    ).select_related("campaign")
    days = _Plan(
        CampaignDay,
        (((d.campaign.platform, d.campaign.name, d.date), d) for d in stored_days),
        unique=("campaign", "date"),
    )
    for row in rows:
        campaign = campaigns.rows.get((row.values["platform"], row.values["campaign"]))
        if campaign is None:
            continue
        v = row.values
        days.upsert(
            (v["platform"], v["campaign"], v["date"]),
            create={"campaign": campaign, "date": v["date"]},
            values={
                name: v[name]
                for name in ("spend", "impressions", "clicks", "conversions", "revenue")
            },
        )
    return [campaigns, days]


def _write_keywords(tenant: Tenant, rows: list[Row], errors: list[RowError]) -> list[_Plan[Any]]:
    low, high = _date_range(rows)
    stored = KeywordRanking.objects.filter(tenant=tenant, date__range=(low, high))
    plan = _Plan(
        KeywordRanking,
        (((k.keyword, k.date), k) for k in stored),
        unique=("tenant", "keyword", "date"),
    )
    for row in rows:
        v = row.values
        plan.upsert(
            (v["keyword"], v["date"]),
            create={"tenant": tenant, "keyword": v["keyword"], "date": v["date"]},
            values={"position": v["position"], "search_volume": v["search_volume"]}
            | row.given("url"),
        )
    return [plan]


def _write_pages(tenant: Tenant, rows: list[Row], errors: list[RowError]) -> list[_Plan[Any]]:
    low, high = _date_range(rows)
    stored = PageTraffic.objects.filter(tenant=tenant, date__range=(low, high))
    plan = _Plan(
        PageTraffic, (((p.url, p.date), p) for p in stored), unique=("tenant", "url", "date")
    )
    for row in rows:
        v = row.values
        plan.upsert(
            (v["url"], v["date"]),
            create={"tenant": tenant, "url": v["url"], "date": v["date"]},
            values={"sessions": v["sessions"], "organic_sessions": v["organic_sessions"]}
            | row.given("conversions"),
        )
    return [plan]


CONTENT_OPTIONAL = (
    "topic",
    "status",
    "published_at",
    "impressions",
    "engagements",
    "clicks",
    "shares",
)


def _write_content(tenant: Tenant, rows: list[Row], errors: list[RowError]) -> list[_Plan[Any]]:
    stored = ContentItem.objects.filter(tenant=tenant)
    plan = _Plan(ContentItem, (((c.kind, c.title), c) for c in stored))
    for row in rows:
        v = row.values
        item = plan.upsert(
            (v["kind"], v["title"]),
            create={"tenant": tenant, "kind": v["kind"], "title": v["title"]},
            values={"channel": v["channel"]} | row.given(*CONTENT_OPTIONAL),
        )
        # The model's constraint, on the merged row: the date may be stored already.
        if item.status == ContentItem.Status.PUBLISHED and item.published_at is None:
            errors.append(RowError(row.number, "published_at", "Published content needs its date."))
    return [plan]


def _write_segments(tenant: Tenant, rows: list[Row], errors: list[RowError]) -> list[_Plan[Any]]:
    by_segment: dict[str, list[Row]] = {}
    for row in rows:
        by_segment.setdefault(row.values["segment"], []).append(row)
    segments = _Plan(
        AudienceSegment, ((s.name, s) for s in AudienceSegment.objects.filter(tenant=tenant))
    )
    for name, group in by_segment.items():
        segments.upsert(
            name,
            create={"tenant": tenant, "name": name},
            values=_latest_given(group, "description"),
        )
    low, high = _date_range(rows)
    stored = SegmentDay.objects.filter(
        segment__tenant=tenant, date__range=(low, high)
    ).select_related("segment")
    days = _Plan(
        SegmentDay, (((d.segment.name, d.date), d) for d in stored), unique=("segment", "date")
    )
    for row in rows:
        v = row.values
        days.upsert(
            (v["segment"], v["date"]),
            create={"segment": segments.rows[v["segment"]], "date": v["date"]},
            values={"size": v["size"], "churn_risk": v["churn_risk"], "ltv": v["ltv"]},
        )
    return [segments, days]


Writer = Callable[[Tenant, list[Row], list[RowError]], list[_Plan[Any]]]


@dataclass(frozen=True)
class ImportKind:
    name: str
    title: str
    fields: dict[str, forms.Field]
    key: tuple[str, ...]  # the columns that name one record: two rows may not share them
    models: tuple[type[models.Model], ...]  # what it writes, parents first
    write: Writer
    checks: tuple[Check, ...] = ()

    @property
    def columns(self) -> list[Column]:
        return [_describe(name, form_field) for name, form_field in self.fields.items()]

    @property
    def required(self) -> list[str]:
        return [name for name, form_field in self.fields.items() if form_field.required]

    @property
    def permissions(self) -> list[str]:
        """An import adds and changes rows of every model it writes."""
        return [
            f"{model._meta.app_label}.{action}_{model._meta.model_name}"
            for model in self.models
            for action in ("add", "change")
        ]

    @property
    def example_header(self) -> str:
        return ",".join(self.fields)

    def clean(self, raw: Mapping[str, str]) -> tuple[Values, dict[str, str]]:
        values: Values = {}
        problems: dict[str, str] = {}
        for name, form_field in self.fields.items():
            try:
                values[name] = form_field.clean(raw.get(name, ""))
            except ValidationError as error:
                problems[name] = " ".join(error.messages)
        if not problems:
            for check in self.checks:
                problems.update(check(values))
        return values, problems


KINDS: dict[str, ImportKind] = {
    kind.name: kind
    for kind in (
        ImportKind(
            name="campaigns",
            title="Ad campaigns, one row per campaign and day",
            fields={
                "platform": ChoiceColumn(Platform.choices, aliases={"facebook": Platform.META}),
                "campaign": _model_field(Campaign, "name"),
                "date": _date(),
                "spend": _model_field(CampaignDay, "spend"),
                "impressions": _model_field(CampaignDay, "impressions"),
                "clicks": _model_field(CampaignDay, "clicks"),
                "conversions": _model_field(CampaignDay, "conversions"),
                "revenue": _model_field(CampaignDay, "revenue"),
                "daily_budget": _model_field(Campaign, "daily_budget", required=False),
                "target_roas": _model_field(Campaign, "target_roas", required=False),
                "status": ChoiceColumn(Campaign.Status.choices, required=False),
            },
            key=("platform", "campaign", "date"),
            models=(Campaign, CampaignDay),
            write=_write_campaigns,
            checks=(_not_more("clicks", "impressions"),),
        ),
        ImportKind(
            name="keywords",
            title="Keyword rankings, one row per keyword and day",
            fields={
                "keyword": _model_field(KeywordRanking, "keyword"),
                "date": _date(),
                "position": _model_field(KeywordRanking, "position"),
                "search_volume": _model_field(KeywordRanking, "search_volume"),
                "url": _model_field(KeywordRanking, "url", required=False),
            },
            key=("keyword", "date"),
            models=(KeywordRanking,),
            write=_write_keywords,
        ),
        ImportKind(
            name="pages",
            title="Page traffic, one row per page and day",
            fields={
                "url": _model_field(PageTraffic, "url"),
                "date": _date(),
                "sessions": _model_field(PageTraffic, "sessions"),
                "organic_sessions": _model_field(PageTraffic, "organic_sessions"),
                "conversions": _model_field(PageTraffic, "conversions", required=False),
            },
            key=("url", "date"),
            models=(PageTraffic,),
            write=_write_pages,
            checks=(_not_more("organic_sessions", "sessions"),),
        ),
        ImportKind(
            name="content",
            title="Content items with their engagement, one row per item",
            fields={
                "title": _model_field(ContentItem, "title"),
                "kind": ChoiceColumn(ContentItem.Kind.choices),
                "channel": _model_field(ContentItem, "channel"),
                "topic": _model_field(ContentItem, "topic", required=False),
                "status": ChoiceColumn(ContentItem.Status.choices, required=False),
                "published_at": forms.DateTimeField(required=False),
                "impressions": _model_field(ContentItem, "impressions", required=False),
                "engagements": _model_field(ContentItem, "engagements", required=False),
                "clicks": _model_field(ContentItem, "clicks", required=False),
                "shares": _model_field(ContentItem, "shares", required=False),
            },
            key=("kind", "title"),
            models=(ContentItem,),
            write=_write_content,
        ),
        ImportKind(
            name="segments",
            title="Audience segments, one row per segment and day",
            fields={
                "segment": _model_field(AudienceSegment, "name"),
                "date": _date(),
                "size": _model_field(SegmentDay, "size"),
                "churn_risk": _model_field(SegmentDay, "churn_risk"),
                "ltv": _model_field(SegmentDay, "ltv"),
                "description": _model_field(AudienceSegment, "description", required=False),
            },
            key=("segment", "date"),
            models=(AudienceSegment, SegmentDay),
            write=_write_segments,
        ),
    )
}

_MODELS = [model for kind in KINDS.values() for model in kind.models]


def kind_for_model(model: type[models.Model]) -> ImportKind:
    return next(kind for kind in KINDS.values() if model in kind.models)


# Reading the file.


def _read(source: bytes | IO[bytes]) -> bytes:
    too_large = ImportRejected(
        f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it and import each part.",
        code="too_large",
    )
    if isinstance(source, bytes):
        data = source
    else:
        if (getattr(source, "size", None) or 0) > MAX_BYTES:
            raise too_large
        data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise too_large
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejected(
            f'The file is not UTF-8 text (byte {error.start + 1} is not): save it as "CSV UTF-8".'
        ) from error


def _header(kind: ImportKind, record: list[str]) -> list[str | None]:
    """The column names, in the file's order (None for a column with no name)."""
    names: list[str | None] = [_squash_name(cell) or None for cell in record]
    known = set(kind.fields)
    present = [name for name in names if name]
    duplicates = sorted({name for name in present if present.count(name) > 1})
    unknown = [name for name in present if name not in known]
    missing = [name for name in kind.required if name not in present]
    if not (duplicates or unknown or missing):
        return names
    problems = []
    fields: dict[str, Any] = {}
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"Missing required column{plural}: {', '.join(missing)}.")
        fields["missing_columns"] = missing
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        problems.append(f"Unknown column{plural}: {', '.join(unknown)}.")
        fields["unknown_columns"] = unknown
    if duplicates:
        problems.append(f"Repeated column: {', '.join(duplicates)}.")
        fields["repeated_columns"] = duplicates
    if len(record) == 1 and re.search(r"[;\t]", record[0]):
        problems.append("Columns must be separated by commas, not semicolons or tabs.")
    problems.append(f"The {kind.name} columns are: {kind.example_header}.")
    raise ImportRejected(" ".join(problems), fields=fields)


def _squash_name(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip()).lower()


def _parse(kind: ImportKind, text: str) -> tuple[list[Row], list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    errors: list[RowError] = []
    seen: dict[tuple[Any, ...], int] = {}
    header: list[str | None] | None = None
    number = 0
    data_rows = 0
    try:
        for number, record in enumerate(reader, start=1):
            if header is None:
                header = _header(kind, record)
                continue
            if not any(cell.strip() for cell in record):
                continue
            data_rows += 1
            if data_rows > MAX_ROWS:
                raise ImportRejected(
                    f"The file has more than {MAX_ROWS:,} rows: split it and import each part.",
                    code="too_large",
                )
            if len(record) != len(header):
                errors.append(
                    RowError(
                        number,
                        None,
                        f"The row has {len(record)} values; the header has {len(header)} columns.",
                    )
                )
                continue
            raw = {name: cell for name, cell in zip(header, record, strict=True) if name}
            if any(cell.strip() for name, cell in zip(header, record, strict=True) if not name):
                errors.append(RowError(number, None, "A value is in a column with no name."))
                continue
            values, problems = kind.clean(raw)
            if problems:
                errors.extend(RowError(number, name, text) for name, text in problems.items())
                continue
            key = tuple(values[name] for name in kind.key)
            if key in seen:
                errors.append(
                    RowError(
                        number,
                        kind.key[-1],
                        f"Row {seen[key]} has the same {', '.join(kind.key)}.",
                    )
                )
                continue
            seen[key] = number
            rows.append(Row(number, values))
    except csv.Error as error:
        raise ImportRejected(f"Row {number + 1} is not valid CSV: {error}.") from error
    if header is None:
        raise ImportRejected(
            f"The file is empty: it needs a header row ({kind.example_header}) and rows."
        )
    if not rows and not errors:
        raise ImportRejected("The file has a header but no rows.")
    return rows, errors


def _reject(errors: list[RowError]) -> ImportRejected:
    errors = sorted(errors, key=lambda e: e.row)
    rows = len({error.row for error in errors})
    return ImportRejected(
        f"{rows} row{'s are' if rows > 1 else ' is'} invalid: nothing was imported.",
        rows=errors[:MAX_REPORTED_ERRORS],
        error_count=len(errors),
    )


def marketing_csv_import(
    *, tenant: Tenant, kind: str, source: bytes | IO[bytes], dry_run: bool = False
) -> ImportReport:
    """Import one CSV file of `kind` into `tenant`'s marketing data, all or nothing.

    Raises ImportRejected (nothing written) when the file or any row is invalid. With
    `dry_run`, everything is checked and counted, and nothing is written.
    """
    spec = KINDS[kind]
    text = _decode(_read(source))
    # Naive date-times in the file are UTC, whatever zone the request runs in.
    with timezone.override(UTC):
        rows, errors = _parse(spec, text)
    if errors:
        raise _reject(errors)
    try:
        with transaction.atomic():
            # One import per tenant at a time: two imports of a new campaign would both plan
            # to create it.
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            plans = spec.write(tenant, rows, errors)
            if errors:
                raise _reject(errors)
            if not dry_run:
                for plan in plans:
                    plan.save()
    except IntegrityError as error:
        # The checks above mirror the models' constraints; this is the last line, should a
        # constraint be added without its check.
        raise ImportRejected(
            f"The database refused the rows: nothing was imported ({error})."
        ) from error
    return ImportReport(
        kind=kind,
        tenant=tenant,
        rows=len(rows),
        dry_run=dry_run,
        counts={plan.model._meta.model_name: plan.counts() for plan in plans},
    )
