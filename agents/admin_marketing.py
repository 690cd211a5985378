"""Admin of the marketing data the agents read: tables with the figures people look for first,
and on each an "Import CSV" page (the model gives the kind) showing the format, then the report
or the row errors.

Campaign figures are over the last 7 days of data (anchored on the latest day imported, as the
agents' answers are), computed in the list's one query.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminFileFieldWidget, UnfoldAdminSelectWidget, UnfoldBooleanWidget

from accounts.admin_base import TenantScopedAdminMixin, TenantScopedInlineMixin
from accounts.models import Tenant
from accounts.tenancy import TenantQuerySet
from accounts.types import AuthedRequest
from agents.backends.builtin import audience, paid_ads
from agents.importers import (
    MAX_BYTES,
    MAX_ROWS,
    ImportKind,
    ImportRejected,
    kind_for_model,
    marketing_csv_import,
)
from agents.models import (
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    SegmentDay,
)

# The same window and alert level as the agents', so the list and the answers agree.
WINDOW_DAYS = paid_ads.WINDOW_DAYS
CHURN_ALERT = audience.CHURN_ALERT
MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)


def _money(value: Decimal | None) -> str:
    # Aggregates come back unrounded on SQLite: show cents, as the stored figures have.
    return "-" if value is None else f"{value:,.2f}"


def _ratio(numerator: Any, denominator: Any) -> ExpressionWrapper:
    return ExpressionWrapper(
        Cast(numerator, FloatField()) / NullIf(Cast(denominator, FloatField()), 0.0),
        output_field=FloatField(),
    )


# The import page.


class ImportForm(forms.Form):
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.order_by("name"),
        widget=UnfoldAdminSelectWidget,
        help_text="Platform operators choose the tenant the rows belong to.",
    )
    file = forms.FileField(
        widget=UnfoldAdminFileFieldWidget,
        help_text=(
            f"UTF-8, comma-separated, with a header row; up to {MAX_BYTES // (1024 * 1024)} MB "
            f"and {MAX_ROWS:,} rows."
        ),
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Check only",
        help_text="Validate and count what would change, without writing anything.",
        widget=UnfoldBooleanWidget,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Tenant staff import into their own tenant, never a chosen one.
        if not user.is_superuser:
            del self.fields["tenant"]


class ImportCSVMixin:
    """An "Import CSV" button on the change list, for the kind that writes this model."""

    actions_list = ["import_csv"]

    def import_kind(self) -> ImportKind:
        return kind_for_model(self.model)  # type: ignore[attr-defined]

    def has_import_csv_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(self.import_kind().permissions)

    @action(
        description="Import CSV",
        url_path="import-csv",
        permissions=["import_csv"],
        icon="upload_file",
    )
    def import_csv(self, request: AuthedRequest) -> HttpResponse:
        user = request.user
        if not user.is_superuser and getattr(user, "tenant", None) is None:
            raise PermissionDenied
        kind = self.import_kind()
        form = ImportForm(request.POST or None, request.FILES or None, user=user)
        context: dict[str, Any] = {}
        if request.method == "POST" and form.is_valid():
            # A superuser's form requires the tenant; anyone else has one (checked above).
            tenant = cast(Tenant, form.cleaned_data.get("tenant") or user.tenant)
            try:
                report = marketing_csv_import(
                    tenant=tenant,
                    kind=kind.name,
                    source=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ImportRejected as rejected:
                context["rejected"] = rejected
                context["more_errors"] = rejected.error_count - len(rejected.rows)
            else:
                if report.dry_run:
                    context["report"] = report
                else:
                    self.message_user(  # type: ignore[attr-defined]
                        request,
                        f"Imported {report.rows} rows into {tenant}: {report.summary()}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._changelist_url())
        context.update(
            self.admin_site.each_context(request),  # type: ignore[attr-defined]
            title=f"Import {self.model._meta.verbose_name_plural} from CSV",  # type: ignore[attr-defined]
            kind=kind,
            form=form,
            tenant=None if user.is_superuser else user.tenant,
            changelist_url=self._changelist_url(),
            columns={
                "headers": ["Column", "Required", "Value"],
                "rows": [
                    [column.name, "yes" if column.required else "no", column.description]
                    for column in kind.columns
                ],
            },
        )
        return TemplateResponse(request, "admin/agents/import_csv.html", context)

    def _changelist_url(self) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


class MarketingAdmin(ImportCSVMixin, TenantScopedAdminMixin, ModelAdmin):
    # The date-range filter is a form: it needs the submit button.
    list_filter_submit = True


class ParentFilter(admin.SimpleListFilter):
    """A daily table filtered by its parent, listing only the parents the user may see (the
    stock related filter would list every tenant's)."""

    parent: type[models.Model]
    field: str

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        # The parents (campaigns, segments) are tenant-owned: their managers are TenantQuerySets.
        parents = cast(TenantQuerySet, self.parent._default_manager.all())
        if not request.user.is_superuser:
            parents = parents.for_tenant(getattr(request.user, "tenant", None))
        return [(parent.pk, str(parent)) for parent in parents]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(**{f"{self.field}_id": self.value()}) if self.value() else queryset


class ReadOnlyDaysInline(TenantScopedInlineMixin, TabularInline):
    """A parent's daily rows, newest first, a page at a time: they come from imports."""

    extra = 0
    can_delete = False
    per_page = 14
    ordering = ["-date"]
    # Each row's date says which day it is; its title would repeat the parent's name.
    hide_title = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Campaigns.


def _latest_ad_day(request: HttpRequest) -> date | None:
    """The last day with campaign data that this user sees; once per request."""
    if not hasattr(request, "_latest_ad_day"):
        days = CampaignDay.objects.all()
        if not request.user.is_superuser:
            days = days.for_tenant(getattr(request.user, "tenant", None))
        request._latest_ad_day = days.aggregate(latest=Max("date"))["latest"]  # type: ignore[attr-defined]
    return request._latest_ad_day  # type: ignore[attr-defined]


class CampaignDayInline(ReadOnlyDaysInline):
    model = CampaignDay
    fields = ["date", "spend", "impressions", "clicks", "conversions", "revenue"]
    readonly_fields = fields


class CampaignFilter(ParentFilter):
    title = "campaign"
    parameter_name = "campaign"
    parent = Campaign
    field = "campaign"


class RoasFilter(admin.SimpleListFilter):
    title = "ROAS, last 7 days"
    parameter_name = "roas"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("beats", "Beats its target"),
            ("under", "Under its target"),
            ("losing", "Under 1 (losing money)"),
            ("none", "No spend"),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        match self.value():
            case "beats":
                return queryset.filter(roas_7d__gte=F("target_roas"))
            case "under":
                return queryset.filter(roas_7d__lt=F("target_roas"))
            case "losing":
                return queryset.filter(roas_7d__lt=1)
            case "none":
                return queryset.filter(roas_7d=None)
        return queryset


class PacingFilter(admin.SimpleListFilter):
    title = "pacing, latest day"
    parameter_name = "pacing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("over", "Over its daily budget"), ("under", "Under half its daily budget")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        match self.value():
            case "over":
                return queryset.filter(spend_latest__gt=F("daily_budget"))
            case "under":
                return queryset.filter(spend_latest__lt=F("daily_budget") / 2)
        return queryset


@admin.register(Campaign)
class CampaignAdmin(MarketingAdmin):
    list_display = [
        "name",
        "platform",
        "status",
        "daily_budget",
        "spend_latest_day",
        "spend_last_7_days",
        "revenue_last_7_days",
        "roas_last_7_days",
        "target_roas",
        "budget_used",
    ]
    list_filter = ["platform", "status", RoasFilter, PacingFilter]
    search_fields = ["name"]
    fields = ["tenant", "platform", "name", "status", "daily_budget", "target_roas"]
    inlines = [CampaignDayInline]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        end = _latest_ad_day(request) or timezone.localdate()
        window = Q(days__date__range=(end - timedelta(days=WINDOW_DAYS - 1), end))
        return queryset.annotate(
            spend_7d=Coalesce(Sum("days__spend", filter=window), ZERO),
            revenue_7d=Coalesce(Sum("days__revenue", filter=window), ZERO),
            spend_latest=Coalesce(Sum("days__spend", filter=Q(days__date=end)), ZERO),
        ).annotate(
            roas_7d=_ratio(F("revenue_7d"), F("spend_7d")),
            budget_used_7d=_ratio(F("spend_7d"), F("daily_budget") * WINDOW_DAYS),
        )

    @display(description="Spend, latest day", ordering="spend_latest")
    def spend_latest_day(self, obj: Campaign) -> str:
        return _money(obj.spend_latest)  # type: ignore[attr-defined]

    @display(description="Spend, 7 days", ordering="spend_7d")
    def spend_last_7_days(self, obj: Campaign) -> str:
        return _money(obj.spend_7d)  # type: ignore[attr-defined]

    @display(description="Revenue, 7 days", ordering="revenue_7d")
    def revenue_last_7_days(self, obj: Campaign) -> str:
        return _money(obj.revenue_7d)  # type: ignore[attr-defined]

    @display(
        description="ROAS, 7 days",
        ordering="roas_7d",
        label={"beats": "success", "under": "warning", "losing": "danger"},
    )
    def roas_last_7_days(self, obj: Campaign) -> tuple[str, str] | None:
        roas = obj.roas_7d  # type: ignore[attr-defined]
        if roas is None:
            return None
        state = "losing" if roas < 1 else "beats" if roas >= obj.target_roas else "under"
        return state, f"{roas:.2f}x"

    @display(description="Budget used, 7 days", ordering="budget_used_7d")
    def budget_used(self, obj: Campaign) -> str:
        used = obj.budget_used_7d  # type: ignore[attr-defined]
        return "-" if used is None else f"{used:.0%}"


@admin.register(CampaignDay)
class CampaignDayAdmin(MarketingAdmin):
    list_display = [
        "date",
        "campaign",
        "spend",
        "impressions",
        "clicks",
        "ctr",
        "conversions",
        "revenue",
        "roas",
    ]
    list_filter = [("date", RangeDateFilter), "campaign__platform", CampaignFilter]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    raw_id_fields = ["campaign"]
    ordering = ["-date", "campaign__name"]
    show_full_result_count = False

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            filters.insert(0, "campaign__tenant")
        return filters

    @display(description="CTR")
    def ctr(self, obj: CampaignDay) -> str:
        return f"{obj.clicks / obj.impressions:.2%}" if obj.impressions else "-"

    @display(description="ROAS")
    def roas(self, obj: CampaignDay) -> str:
        return f"{obj.revenue / obj.spend:.2f}x" if obj.spend else "-"


# SEO.


class PositionFilter(admin.SimpleListFilter):
    title = "position"
    parameter_name = "band"
    BANDS = {
        "top3": ("Top 3", Q(position__lte=3)),
        "close": ("4 to 15 (opportunities)", Q(position__range=(4, 15))),
        "page2": ("16 to 30", Q(position__range=(16, 30))),
        "far": ("Beyond 30", Q(position__gt=30)),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.BANDS.items()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        band = self.BANDS.get(self.value() or "")
        return queryset.filter(band[1]) if band else queryset


@admin.register(KeywordRanking)
class KeywordRankingAdmin(MarketingAdmin):
    list_display = ["keyword", "date", "position", "search_volume", "url"]
    list_filter = [("date", RangeDateFilter), PositionFilter]
    search_fields = ["keyword", "url"]
    ordering = ["-date", "position"]
    show_full_result_count = False


@admin.register(PageTraffic)
class PageTrafficAdmin(MarketingAdmin):
    list_display = ["url", "date", "sessions", "organic_sessions", "organic_share", "conversions"]
    list_filter = [("date", RangeDateFilter)]
    search_fields = ["url"]
    ordering = ["-date", "-sessions"]
    show_full_result_count = False

    @display(description="Organic share")
    def organic_share(self, obj: PageTraffic) -> str:
        return f"{obj.organic_sessions / obj.sessions:.0%}" if obj.sessions else "-"


# Content.


@admin.register(ContentItem)
class ContentItemAdmin(MarketingAdmin):
    list_display = [
        "title",
        "kind",
        "channel",
        "topic",
        "status",
        "published_at",
        "impressions",
        "engagements",
        "engagement_rate",
        "clicks",
        "shares",
    ]
    list_filter = ["status", "kind", "channel", "topic", ("published_at", RangeDateFilter)]
    search_fields = ["title", "topic"]
    date_hierarchy = "published_at"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            super().get_queryset(request).annotate(rate=_ratio(F("engagements"), F("impressions")))
        )

    @display(description="Engagement rate", ordering="rate")
    def engagement_rate(self, obj: ContentItem) -> str:
        rate = obj.rate  # type: ignore[attr-defined]
        return "-" if rate is None else f"{rate:.1%}"


# Audiences.


class SegmentDayInline(ReadOnlyDaysInline):
    model = SegmentDay
    fields = ["date", "size", "churn_risk", "ltv"]
    readonly_fields = fields


class SegmentFilter(ParentFilter):
    title = "segment"
    parameter_name = "segment"
    parent = AudienceSegment
    field = "segment"


class ChurnFilter(admin.SimpleListFilter):
    title = "churn risk, latest day"
    parameter_name = "churn"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("alert", f"{CHURN_ALERT:.0%} or more"), ("ok", f"Under {CHURN_ALERT:.0%}")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        match self.value():
            case "alert":
                return queryset.filter(latest_churn__gte=CHURN_ALERT)
            case "ok":
                return queryset.filter(latest_churn__lt=CHURN_ALERT)
        return queryset


@admin.register(AudienceSegment)
class AudienceSegmentAdmin(MarketingAdmin):
    list_display = ["name", "description", "latest_day", "size", "churn_risk", "ltv"]
    list_filter = [ChurnFilter]
    search_fields = ["name", "description"]
    fields = ["tenant", "name", "description"]
    inlines = [SegmentDayInline]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        latest = SegmentDay.objects.filter(segment=OuterRef("pk")).order_by("-date")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_date=Subquery(latest.values("date")[:1]),
                latest_size=Subquery(latest.values("size")[:1]),
                latest_churn=Subquery(latest.values("churn_risk")[:1]),
                latest_ltv=Subquery(latest.values("ltv")[:1]),
            )
        )

    @display(description="Latest day", ordering="latest_date")
    def latest_day(self, obj: AudienceSegment) -> date | None:
        return obj.latest_date  # type: ignore[attr-defined]

    @display(description="Size", ordering="latest_size")
    def size(self, obj: AudienceSegment) -> int | None:
        return obj.latest_size  # type: ignore[attr-defined]

    @display(
        description="Churn risk",
        ordering="latest_churn",
        label={"alert": "danger", "ok": "success"},
    )
    def churn_risk(self, obj: AudienceSegment) -> tuple[str, str] | None:
        churn = obj.latest_churn  # type: ignore[attr-defined]
        if churn is None:
            return None
        return ("alert" if churn >= CHURN_ALERT else "ok"), f"{churn:.1%}"

    @display(description="LTV", ordering="latest_ltv")
    def ltv(self, obj: AudienceSegment) -> str:
        return _money(obj.latest_ltv)  # type: ignore[attr-defined]


@admin.register(SegmentDay)
class SegmentDayAdmin(MarketingAdmin):
    list_display = ["date", "segment", "size", "churn_risk", "ltv"]
    list_filter = [("date", RangeDateFilter), SegmentFilter]
    list_select_related = ["segment"]
    search_fields = ["segment__name"]
    raw_id_fields = ["segment"]
    ordering = ["-date", "segment__name"]
    show_full_result_count = False

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            filters.insert(0, "segment__tenant")
        return filters
