"""CSV import of the marketing data, through the real API URL and the real admin page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import MARKETING_MANAGER, READ_ONLY_ADMIN
from agents import importers
from agents.models import (
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    SegmentDay,
)
from tests.agents.factories import CampaignDayFactory, CampaignFactory, SegmentDayFactory
from tests.conftest import TenantPeople
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/ai-agents/walker/data/{kind}/import"
MODELS = [
    Campaign,
    CampaignDay,
    KeywordRanking,
    PageTraffic,
    ContentItem,
    AudienceSegment,
    SegmentDay,
]

CAMPAIGN_HEADER = "platform,campaign,date,spend,impressions,clicks,conversions,revenue"
CAMPAIGNS = f"""{CAMPAIGN_HEADER},daily_budget,target_roas,status
Meta,Spring Sale,2026-03-01,120.50,15000,300,12,480.00,150,3.5,active
meta,Spring Sale,2026-03-02,130.00,16000,320,14,560.00,160,,
Google Ads,Brand Search,2026-03-01,40.00,2000,180,9,630.00,50,,
google_ads,Brand Search,2026-03-02,42.10,2100,190,8,560.00,,,
"""
KEYWORDS = """keyword,date,position,search_volume,url
trail running shoes,2026-03-01,12,49500,https://acme.example/trail
trail running shoes,2026-03-02,11,49500,https://acme.example/trail
running jacket,2026-03-02,6,14800,
"""
PAGES = """url,date,sessions,organic_sessions,conversions
https://acme.example/trail,2026-03-01,1200,700,30
https://acme.example/trail,2026-03-02,1250,720,
"""
CONTENT = """title,kind,channel,topic,status,published_at,impressions,engagements,clicks,shares
Meet the Summit,Social post,Instagram,trail running,published,2026-03-01T09:30:00,12000,840,95,40
Spring sale,email_campaign,email,sale,published,2026-03-02,18000,500,700,
Coming soon,blog_article,blog,,draft,,,,,
"""
SEGMENTS = """segment,date,size,churn_risk,ltv,description
First-time buyers,2026-03-01,6400,0.22,84.00,One order in 90 days
First-time buyers,2026-03-02,6450,0.231,83.50,
VIP customers,2026-03-02,1840,0.06,612.00,
"""
KW = "keyword,date,position,search_volume\n"
PG = "url,date,sessions,organic_sessions\n"
SG = "segment,date,size,churn_risk,ltv\n"
CT = "title,kind,channel,status\n"
SAMPLES = {
    "campaigns": CAMPAIGNS,
    "keywords": KEYWORDS,
    "pages": PAGES,
    "content": CONTENT,
    "segments": SEGMENTS,
}


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def upload(client: APIClient, kind: str, text: str | bytes, **params: str) -> Any:
    data = text.encode() if isinstance(text, str) else text
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(
        URL.format(kind=kind) + (f"?{query}" if query else ""),
        {"file": SimpleUploadedFile(f"{kind}.csv", data, content_type="text/csv")},
        format="multipart",
    )


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every marketing row, every field: what "nothing changed" is checked against."""
    return {
        model.__name__: sorted(
            (tuple(str(v) for v in row) for row in model.objects.values_list()), key=str
        )
        for model in MODELS
    }


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


# Each kind imports.


def test_campaigns_import_upserts_campaigns_and_their_days(people: TenantPeople) -> None:
    response = upload(api(people.owner), "campaigns", CAMPAIGNS)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "kind": "campaigns",
        "tenant": "acme",
        "rows": 4,
        "dry_run": False,
        "counts": {
            "campaign": {"created": 2, "updated": 0, "unchanged": 0},
            "campaignday": {"created": 4, "updated": 0, "unchanged": 0},
        },
    }
    sale = Campaign.objects.get(name="Spring Sale")
    assert (sale.tenant, sale.platform, sale.status) == (people.tenant, "meta", "active")
    # The latest-dated row that gives a budget sets it; the target came from the first row.
    assert sale.daily_budget == Decimal("160.00")
    assert sale.target_roas == Decimal("3.50")
    brand = Campaign.objects.get(name="Brand Search")
    assert brand.platform == "google_ads"
    assert brand.daily_budget == Decimal("50.00")
    assert brand.target_roas == Decimal("3.00")  # the model's default
    day = CampaignDay.objects.get(campaign=sale, date=date(2026, 3, 2))
    assert (day.spend, day.impressions, day.clicks, day.conversions, day.revenue) == (
        Decimal("130.00"),
        16000,
        320,
        14,
        Decimal("560.00"),
    )
    assert CampaignDay.objects.filter(campaign=brand).count() == 2


def test_keywords_import(people: TenantPeople) -> None:
    response = upload(api(people.owner), "keywords", KEYWORDS)

    assert response.status_code == 200, response.json()
    assert response.json()["counts"] == {
        "keywordranking": {"created": 3, "updated": 0, "unchanged": 0}
    }
    rows = KeywordRanking.objects.filter(tenant=people.tenant).order_by("keyword", "date")
    assert [(r.keyword, r.date, r.position, r.search_volume, r.url) for r in rows] == [
        ("running jacket", date(2026, 3, 2), 6, 14800, ""),
        ("trail running shoes", date(2026, 3, 1), 12, 49500, "https://acme.example/trail"),
        ("trail running shoes", date(2026, 3, 2), 11, 49500, "https://acme.example/trail"),
    ]


def test_pages_import(people: TenantPeople) -> None:
    response = upload(api(people.owner), "pages", PAGES)

    assert response.status_code == 200, response.json()
    rows = PageTraffic.objects.filter(tenant=people.tenant).order_by("date")
    assert [(r.date, r.sessions, r.organic_sessions, r.conversions) for r in rows] == [
        (date(2026, 3, 1), 1200, 700, 30),
        (date(2026, 3, 2), 1250, 720, 0),  # a blank optional cell: the model's default
    ]


def test_content_import(people: TenantPeople) -> None:
    response = upload(api(people.owner), "content", CONTENT)

    assert response.status_code == 200, response.json()
    assert response.json()["counts"]["contentitem"]["created"] == 3
    post = ContentItem.objects.get(title="Meet the Summit")
    assert (post.tenant, post.kind, post.channel, post.topic, post.status) == (
        people.tenant,
        "social_post",
        "Instagram",
        "trail running",
        "published",
    )
    assert post.published_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert (post.impressions, post.engagements, post.clicks, post.shares) == (12000, 840, 95, 40)
    email = ContentItem.objects.get(title="Spring sale")
    assert email.published_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert email.shares == 0
    draft = ContentItem.objects.get(title="Coming soon")
    assert (draft.status, draft.published_at, draft.impressions) == ("draft", None, 0)


def test_segments_import(people: TenantPeople) -> None:
    response = upload(api(people.owner), "segments", SEGMENTS)

    assert response.status_code == 200, response.json()
    assert response.json()["counts"] == {
        "audiencesegment": {"created": 2, "updated": 0, "unchanged": 0},
        "segmentday": {"created": 3, "updated": 0, "unchanged": 0},
    }
    first = AudienceSegment.objects.get(tenant=people.tenant, name="First-time buyers")
    assert first.description == "One order in 90 days"
    day = SegmentDay.objects.get(segment=first, date=date(2026, 3, 2))
    assert (day.size, day.churn_risk, day.ltv) == (6450, Decimal("0.231"), Decimal("83.50"))


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_importing_the_same_file_again_changes_nothing(people: TenantPeople, kind: str) -> None:
    client = api(people.owner)
    assert upload(client, kind, SAMPLES[kind]).status_code == 200
    before = snapshot()

    again = upload(client, kind, SAMPLES[kind])

    assert again.status_code == 200
    for model_counts in again.json()["counts"].values():
        assert model_counts["created"] == model_counts["updated"] == 0
        assert model_counts["unchanged"] > 0
    assert snapshot() == before


def test_a_changed_value_updates_only_its_row(people: TenantPeople) -> None:
    client = api(people.owner)
    upload(client, "keywords", KEYWORDS)
    row = KeywordRanking.objects.get(keyword="trail running shoes", date="2026-03-02")

    changed = KEYWORDS.replace("2026-03-02,11,", "2026-03-02,9,")
    body = upload(client, "keywords", changed).json()

    assert body["counts"]["keywordranking"] == {"created": 0, "updated": 1, "unchanged": 2}
    updated = KeywordRanking.objects.get(pk=row.pk)  # the same row, updated in place
    assert (updated.position, updated.url) == (9, row.url)
    assert KeywordRanking.objects.count() == 3


def test_a_blank_optional_cell_keeps_the_stored_value(people: TenantPeople) -> None:
    client = api(people.owner)
    upload(client, "campaigns", CAMPAIGNS)
    Campaign.objects.filter(name="Spring Sale").update(status="paused")

    without_status = CAMPAIGNS.replace(",150,3.5,active", ",150,3.5,")
    upload(client, "campaigns", without_status)

    assert Campaign.objects.get(name="Spring Sale").status == "paused"


def test_header_names_ignore_case_spaces_and_a_byte_order_mark(people: TenantPeople) -> None:
    text = "\ufeffKeyword, Date ,Position,Search Volume\r\nrunning jacket,2026-03-02,6,14800\r\n"

    response = upload(api(people.owner), "keywords", text.encode("utf-8"))

    assert response.status_code == 200, response.json()
    assert KeywordRanking.objects.get(keyword="running jacket").search_volume == 14800


def test_a_text_csv_body_is_accepted(people: TenantPeople) -> None:
    response = api(people.owner).post(
        URL.format(kind="pages"), data=PAGES.encode(), content_type="text/csv; charset=utf-8"
    )

    assert response.status_code == 200, response.json()
    assert PageTraffic.objects.filter(tenant=people.tenant).count() == 2


def test_a_dry_run_counts_and_writes_nothing(people: TenantPeople) -> None:
    response = upload(api(people.owner), "campaigns", CAMPAIGNS, dry_run="true")

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["counts"]["campaignday"]["created"] == 4
    assert counts()["CampaignDay"] == 0


# Invalid files: a clear 400, and nothing written.


def test_an_invalid_row_is_reported_by_row_and_column_and_nothing_is_written(
    people: TenantPeople,
) -> None:
    CampaignDayFactory(campaign__tenant=people.tenant, campaign__name="Existing")
    before = snapshot()
    bad = CAMPAIGNS.replace("2026-03-02,130.00,16000,320", "2026-03-02,130.00,16000,16500")
    bad = bad.replace("Google Ads,Brand Search,2026-03-01", "Google Ads,Brand Search,2026-02-30")

    response = upload(api(people.owner), "campaigns", bad)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"] == "2 rows are invalid: nothing was imported."
    assert body["fields"]["rows"] == [
        {
            "row": 3,
            "field": "clicks",
            "message": "clicks (16500) is more than impressions (16000).",
        },
        {"row": 4, "field": "date", "message": "Enter a date as YYYY-MM-DD."},
    ]
    assert body["fields"]["error_count"] == 2
    # The valid rows around them were not written either.
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kind", "text", "row", "field"),
    [
        ("keywords", f"{KW}shoes,2026-03-01,0,10\n", 2, "position"),
        ("keywords", f"{KW}shoes,2026-03-01,101,10\n", 2, "position"),
        ("keywords", f"{KW}shoes,2026-03-01,3,-5\n", 2, "search_volume"),
        ("keywords", f"{KW},2026-03-01,3,5\n", 2, "keyword"),
        ("pages", f"{PG}/a,2026-03-01,10,11\n", 2, "organic_sessions"),
        ("segments", f"{SG}A,2026-03-01,10,1.2,5\n", 2, "churn_risk"),
        ("segments", f"{SG}A,2026-03-01,10,0.5,-1\n", 2, "ltv"),
        ("campaigns", CAMPAIGNS.replace("Meta,Spring", "Myspace,Spring"), 2, "platform"),
        ("campaigns", CAMPAIGNS.replace("120.50", "12.505"), 2, "spend"),
        ("campaigns", CAMPAIGNS.replace("120.50", "$120"), 2, "spend"),
        ("content", f"{CT}A,podcast,blog,draft\n", 2, "kind"),
        ("content", f"{CT}A,blog_article,blog,published\n", 2, "published_at"),
        # Two rows for one record: the second is named.
        ("pages", f"{PG}/a,2026-03-01,1,1\n/a,2026-03-01,2,1\n", 3, "date"),
        # A row with a value missing: the whole row.
        ("keywords", f"{KW}shoes,2026-03-01,3\n", 2, None),
    ],
)  # fmt: skip
def test_invalid_values_are_named(
    people: TenantPeople, kind: str, text: str, row: int, field: str | None
) -> None:
    response = upload(api(people.owner), kind, text)

    assert response.status_code == 400, response.json()
    errors = response.json()["fields"]["rows"]
    assert (errors[0]["row"], errors[0]["field"]) == (row, field)
    assert errors[0]["message"]
    assert sum(counts().values()) == 0


def test_a_new_campaign_without_a_budget_is_refused(people: TenantPeople) -> None:
    text = f"{CAMPAIGN_HEADER}\ntiktok,New One,2026-03-01,10,1000,10,1,20\n"

    response = upload(api(people.owner), "campaigns", text)

    assert response.status_code == 400
    assert response.json()["fields"]["rows"][0]["field"] == "daily_budget"
    # An existing campaign needs none: its stored budget stays.
    CampaignFactory(tenant=people.tenant, platform="tiktok", name="New One")
    assert upload(api(people.owner), "campaigns", text).status_code == 200


def test_a_missing_required_column_is_named(people: TenantPeople) -> None:
    text = "\n".join(
        ",".join(cell for i, cell in enumerate(line.split(",")) if i != 5)
        for line in CAMPAIGNS.splitlines()
    )

    response = upload(api(people.owner), "campaigns", text)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Missing required column: clicks.")
    assert body["fields"] == {"missing_columns": ["clicks"]}
    assert sum(counts().values()) == 0


def test_an_unknown_column_is_rejected_not_dropped(people: TenantPeople) -> None:
    text = PAGES.replace("conversions", "conversion")  # a typo of an optional column

    response = upload(api(people.owner), "pages", text)

    assert response.status_code == 400
    assert response.json()["fields"] == {"unknown_columns": ["conversion"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"url,date,sessions,organic_sessions\n", "a header but no rows"),
        (b"url;date;sessions;organic_sessions\n/a;2026-03-01;1;1\n", "commas"),
        (
            "url,date,sessions,organic_sessions\n/caf\xe9,2026-03-01,1,1\n".encode("latin-1"),
            "UTF-8",
        ),
    ],
)
def test_unreadable_files_are_explained(people: TenantPeople, data: bytes, message: str) -> None:
    response = upload(api(people.owner), "pages", data)

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_size_limits_answer_413(people: TenantPeople, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "MAX_ROWS", 2)
    rows = upload(api(people.owner), "keywords", KEYWORDS)
    assert rows.status_code == 413
    assert "more than 2 rows" in rows.json()["detail"]

    monkeypatch.setattr(importers, "MAX_BYTES", 100)
    size = upload(api(people.owner), "keywords", KEYWORDS)
    assert size.status_code == 413
    assert size.json()["error"] == "too_large"
    assert sum(counts().values()) == 0


def test_an_unknown_kind_is_a_json_404(people: TenantPeople) -> None:
    response = upload(api(people.owner), "tweets", KEYWORDS)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "campaigns" in response.json()["detail"]


def test_a_request_without_a_file_is_a_400(people: TenantPeople) -> None:
    response = api(people.owner).post(URL.format(kind="pages"), {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["fields"]


# Who may import, and where the rows go.


def test_an_import_by_one_tenant_never_touches_another(people: TenantPeople) -> None:
    theirs = CampaignDayFactory(
        campaign__tenant=people.other_tenant,
        campaign__name="Spring Sale",
        campaign__daily_budget=Decimal("999.00"),
        date=date(2026, 3, 1),
        spend=Decimal("1.00"),
    )
    globex = Campaign.objects.filter(tenant=people.other_tenant)
    before = (list(globex.values()), list(CampaignDay.objects.filter(campaign__in=globex).values()))

    assert upload(api(people.owner), "campaigns", CAMPAIGNS).status_code == 200

    after = (list(globex.values()), list(CampaignDay.objects.filter(campaign__in=globex).values()))
    assert after == before
    ours = Campaign.objects.get(tenant=people.tenant, name="Spring Sale")
    assert ours.pk != theirs.campaign_id
    assert ours.daily_budget == Decimal("160.00")


def test_the_outsider_imports_into_their_own_tenant(people: TenantPeople) -> None:
    assert upload(api(people.outsider), "segments", SEGMENTS).status_code == 200

    assert AudienceSegment.objects.filter(tenant=people.other_tenant).count() == 2
    assert not AudienceSegment.objects.filter(tenant=people.tenant).exists()


def test_tenant_staff_cannot_name_another_tenant(people: TenantPeople) -> None:
    response = upload(api(people.owner), "pages", PAGES, tenant="globex")

    assert response.status_code == 403
    assert not PageTraffic.objects.exists()


def test_a_platform_operator_names_the_tenant(people: TenantPeople) -> None:
    operator = UserFactory(tenant=None, username="platform", is_staff=True, is_superuser=True)

    unnamed = upload(api(operator), "pages", PAGES)
    named = upload(api(operator), "pages", PAGES, tenant="globex")

    assert unnamed.status_code == 400
    assert named.status_code == 200
    assert PageTraffic.objects.filter(tenant=people.other_tenant).count() == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("teammate", 403), ("read_only", 403), ("marketing", 200), ("member", 403)],
)
def test_only_roles_that_change_marketing_data_may_import(
    people: TenantPeople, who: str, status: int
) -> None:
    users = {
        "owner": people.owner,
        "teammate": people.teammate,
        "read_only": StaffFactory(tenant=people.tenant, roles=[READ_ONLY_ADMIN]),
        "marketing": StaffFactory(tenant=people.tenant, roles=[MARKETING_MANAGER]),
        "member": UserFactory(tenant=people.tenant),
    }

    response = upload(api(users[who]), "keywords", KEYWORDS)

    assert response.status_code == status, response.json()
    assert KeywordRanking.objects.exists() == (status == 200)
    if status == 403:
        assert response.json()["error"] == "permission_denied"


def test_the_permission_is_per_kind(people: TenantPeople) -> None:
    seo = StaffFactory(tenant=people.tenant)
    seo.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="agents",
            codename__in=["add_keywordranking", "change_keywordranking"],
        )
    )

    assert upload(api(seo), "keywords", KEYWORDS).status_code == 200
    assert upload(api(seo), "campaigns", CAMPAIGNS).status_code == 403


def test_anonymous_is_a_401(db: None) -> None:
    response = upload(api(), "keywords", KEYWORDS)

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_the_import_is_in_the_openapi_schema(db: None) -> None:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    operation = schema.json()["paths"]["/api/v1/ai-agents/walker/data/{kind}/import"]["post"]
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "text/csv"}
    assert {"200", "400", "403", "404", "413"} <= set(operation["responses"])
    assert "churn_risk" in operation["description"]


# The admin's import page.


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def import_url(model: type[models.Model]) -> str:
    return reverse(f"admin:agents_{model._meta.model_name}_import_csv")


def test_a_tenant_admin_imports_from_the_admin(people: TenantPeople) -> None:
    client = admin_client(people.owner)
    changelist = reverse("admin:agents_campaign_changelist")
    assert import_url(Campaign) in client.get(changelist).content.decode()

    page = client.get(import_url(Campaign))
    assert page.status_code == 200
    assert "target_roas" in page.content.decode()  # the format is shown
    assert "tenant" not in page.context["form"].fields

    response = client.post(
        import_url(Campaign),
        {"file": SimpleUploadedFile("c.csv", CAMPAIGNS.encode(), content_type="text/csv")},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == changelist
    assert "Imported 4 rows into" in response.content.decode()
    assert Campaign.objects.filter(tenant=people.tenant).count() == 2
    assert CampaignDay.objects.filter(campaign__tenant=people.tenant).count() == 4
    assert not Campaign.objects.filter(tenant=people.other_tenant).exists()


def test_the_admin_page_lists_row_errors_and_writes_nothing(people: TenantPeople) -> None:
    bad = SEGMENTS.replace("6450,0.231", "6450,1.5")

    response = admin_client(people.owner).post(
        import_url(SegmentDay),
        {"file": SimpleUploadedFile("s.csv", bad.encode(), content_type="text/csv")},
    )

    assert response.status_code == 200
    assert response.context["rejected"].rows[0].as_dict()["row"] == 3
    assert "churn_risk" in response.content.decode()
    assert sum(counts().values()) == 0


def test_the_admin_check_only_writes_nothing(people: TenantPeople) -> None:
    response = admin_client(people.owner).post(
        import_url(KeywordRanking),
        {
            "file": SimpleUploadedFile("k.csv", KEYWORDS.encode(), content_type="text/csv"),
            "dry_run": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["report"].counts["keywordranking"].created == 3
    assert not KeywordRanking.objects.exists()


def test_staff_without_the_permission_get_no_import(people: TenantPeople) -> None:
    client = admin_client(people.teammate)

    assert client.get(import_url(Campaign)).status_code == 403


def test_a_platform_superuser_must_pick_the_tenant(people: TenantPeople) -> None:
    operator = UserFactory(tenant=None, username="platform", is_staff=True, is_superuser=True)
    client = admin_client(operator)
    file = {"file": SimpleUploadedFile("p.csv", PAGES.encode(), content_type="text/csv")}

    unpicked = client.post(import_url(PageTraffic), file)
    assert "tenant" in unpicked.context["form"].errors
    assert not PageTraffic.objects.exists()

    file["file"].seek(0)
    client.post(import_url(PageTraffic), {**file, "tenant": people.other_tenant.pk})
    assert PageTraffic.objects.filter(tenant=people.other_tenant).count() == 2


# The admin lists.


def test_campaign_list_totals_are_one_query_whatever_the_number_of_campaigns(
    people: TenantPeople, django_assert_max_num_queries: Any
) -> None:
    client = admin_client(people.owner)
    url = reverse("admin:agents_campaign_changelist")
    CampaignDayFactory(campaign__tenant=people.tenant)
    client.get(url)
    with django_assert_max_num_queries(100) as few:
        client.get(url)
    for _ in range(10):
        CampaignDayFactory(campaign__tenant=people.tenant)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 11


def test_campaign_list_shows_last_7_days_and_filters_by_roas(people: TenantPeople) -> None:
    good = CampaignDayFactory(
        campaign__tenant=people.tenant, spend=Decimal("100"), revenue=Decimal("500")
    )
    bad = CampaignDayFactory(
        campaign__tenant=people.tenant, spend=Decimal("100"), revenue=Decimal("50")
    )
    CampaignDayFactory(campaign__tenant=people.other_tenant, spend=Decimal("9"))
    client = admin_client(people.owner)
    url = reverse("admin:agents_campaign_changelist")

    listed = {c.name: c for c in client.get(url).context["cl"].result_list}
    losing = client.get(url, {"roas": "losing"}).context["cl"].result_list

    assert set(listed) == {good.campaign.name, bad.campaign.name}
    assert listed[good.campaign.name].roas_7d == pytest.approx(5.0)
    assert listed[bad.campaign.name].spend_7d == Decimal("100")
    assert [c.name for c in losing] == [bad.campaign.name]


def test_segment_list_shows_the_latest_day_without_a_query_per_segment(
    people: TenantPeople, django_assert_max_num_queries: Any
) -> None:
    older = SegmentDayFactory(segment__tenant=people.tenant, date=date(2026, 3, 1))
    SegmentDayFactory(
        segment=older.segment, date=date(2026, 3, 2), size=1234, churn_risk=Decimal("0.35")
    )
    for _ in range(5):
        SegmentDayFactory(segment__tenant=people.tenant)
    client = admin_client(people.owner)
    url = reverse("admin:agents_audiencesegment_changelist")

    response = client.get(url, {"churn": "alert"})

    rows = list(response.context["cl"].result_list)
    assert [(r.name, r.latest_size) for r in rows] == [(older.segment.name, 1234)]
    with django_assert_max_num_queries(30):
        client.get(url)
