"""A compliance officer answers a person's GDPR requests in the console: an export (run by the
worker, downloaded from the data requests page) and then their erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from accounts.roles import COMPLIANCE_OFFICER, SUPER_ADMIN
from engarde.celery import app as celery_app
from privacy.models import AdminAccessLog, DataRequest
from tests.e2e.conftest import screenshot
from tests.factories import (
    PASSWORD,
    StaffFactory,
    TenantFactory,
    person_with_data_everywhere,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+14155550177"
WORDS = "periwinkle xylophone marmalade"


@pytest.fixture
def eager() -> Iterator[None]:
    """The export task runs in the server's request thread, after the action's commit: the
    real task, without a worker process."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def acme() -> dict[str, User]:
    tenant = TenantFactory(slug="acme", name="Acme")
    owner = StaffFactory(tenant=tenant, username="admin", roles=[SUPER_ADMIN])
    person = person_with_data_everywhere(
        tenant=tenant,
        username="zephyrine_q",
        phone=PHONE,
        words=WORDS,
        approver=owner,
        first_name="Zephyrine",
        last_name="Quillbottom",
    )
    officer = StaffFactory(tenant=tenant, username="compliance", roles=[COMPLIANCE_OFFICER])
    return {"person": person, "officer": officer}


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/accounts/user/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/accounts/user/")


def run_on(page: Any, person: User, action: str) -> None:
    """Tick the person's row on the users page and run `action` from the action bar."""
    page.locator(f"#result_list input.action-select[value='{person.pk}']").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_compliance_officer_exports_and_erases_a_person(
    page: Any, live_server: Any, acme: dict[str, User], eager: None, tmp_path: Path
) -> None:
    base, person = live_server.url, acme["person"]
    log_in(page, base, "compliance")

    run_on(page, person, "export_personal_data")
    page.wait_for_url(f"{base}/admin/accounts/user/")
    assert "Export of zephyrine_q started" in page.locator("body").inner_text()

    page.get_by_role("link", name="The data requests page").click()
    page.wait_for_url(f"{base}/admin/privacy/datarequest/")
    # Hers, asked for by the officer (the fixture planted an older one, by the owner).
    row = page.locator("#result_list tbody tr", has_text="zephyrine_q").filter(
        has_text="compliance"
    )
    assert "Done" in row.inner_text() and "100%" in row.inner_text()
    screenshot(page, "privacy-data-requests")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download").click()
    download = download_info.value
    data_request = DataRequest.objects.get(requested_by=acme["officer"])
    assert download.suggested_filename == (
        f"engarde_data_export_{person.pk}_{data_request.finished_at:%Y%m%d}.json"
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    sections = json.loads(saved.read_text())["sections"]
    assert sections["phone_numbers"][0]["phone_number"] == PHONE
    assert AdminAccessLog.objects.filter(action=AdminAccessLog.Action.DOWNLOAD_EXPORT).count() == 1

    page.goto(f"{base}/admin/accounts/user/")
    run_on(page, person, "erase_personal_data")
    page.wait_for_selector("#erase-people")
    assert "zephyrine_q" in page.locator("#erase-people").inner_text()
    page.fill("textarea[name=reason]", "Asked by email on 2026-12-01, ticket GDPR-4711")
    screenshot(page, "privacy-erase-confirmation")
    page.get_by_role("button", name="Yes, erase their data").click()
    page.wait_for_url(f"{base}/admin/accounts/user/")

    erased = User.objects.get(pk=person.pk)
    assert erased.is_deleted and erased.username.startswith("erased-")
    body = page.locator("body").inner_text()
    assert f"Erased user #{person.pk}, now {erased.username}." in body
    assert "zephyrine_q" not in page.locator("#result_list").inner_text()
    page.goto(f"{base}/admin/accounts/user/?is_deleted__exact=1")
    assert erased.username in page.locator("#result_list").inner_text()
    screenshot(page, "privacy-person-erased")
