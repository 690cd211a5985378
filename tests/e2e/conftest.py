from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels_app.chat.servers import Daphne
from tests.integration.worker import Worker, broker, broker_url, worker_env

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it
# are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Each page reports what its Content-Security-Policy refused, in every frame, on the console
# (where Chromium also writes its own "Refused to ... Content Security Policy" line).
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  const what = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.violatedDirective} refused ${what}`);
});
"""


def csp_violations(context: object) -> list[str]:
    """What the Content-Security-Policy refused in this browser context's pages, as it happens."""
    refused: list[str] = []
    context.add_init_script(CSP_WATCH)  # type: ignore[attr-defined]

    def on_console(message: object) -> None:
        text: str = message.text  # type: ignore[attr-defined]
        if text.startswith("CSP violation") or "Content Security Policy" in text:
            refused.append(text)

    context.on("console", on_console)  # type: ignore[attr-defined]
    return refused


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    refused = csp_violations(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    # Every page the suite drives works under the policy: nothing it needs is refused.
    assert not refused, refused


@pytest.fixture
def site(transactional_db: None, request: pytest.FixtureRequest) -> Iterator[str]:
    """The chat's two real processes on the suite's PostgreSQL and Redis: daphne (HTTP and the
    WebSocket) and a Celery worker (the turns); the URL daphne serves."""
    env = worker_env()
    name = request.node.name
    worker = Worker(env, ARTIFACTS / f"e2e-worker-{name}.log")
    daphne = Daphne(env, ARTIFACTS / f"e2e-daphne-{name}.log")
    with broker(broker_url()):
        try:
            worker.start()
            daphne.start()
            yield daphne.url
        finally:
            daphne.stop()
            worker.stop()


def screenshot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
