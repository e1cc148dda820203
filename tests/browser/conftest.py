"""Real-browser harness: Debian's Chromium driven by Playwright (never a downloaded browser), a live
Django server, the ZStack simulator, and axe-core from node_modules for accessibility checks."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page, sync_playwright

from dashboard.accounts.roles import Role, assign_role

# Playwright's sync API keeps an event loop in this thread; the ORM calls our fixtures make from it
# are ordinary synchronous calls, so Django's async-safety guard would be a false alarm here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root in a sandbox with no internet: no sandbox, no background network chatter.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "browser-test-Pw-91"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser-deps` (installs Debian's chromium).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_env(transactional_db, live_server, zstack_settings):
    """The live server talking to a freshly reset simulator."""
    return {"url": live_server.url, "sim": zstack_settings}


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _new_page(
    browser: Browser,
    *,
    java_script: bool = True,
    locale: str = "en-US",
    viewport: dict | None = None,
    color_scheme: str = "light",
    bypass_csp: bool = True,
    timezone_id: str = "UTC",
) -> Page:
    context = browser.new_context(
        java_script_enabled=java_script,
        locale=locale,
        timezone_id=timezone_id,
        viewport=viewport or DESKTOP,
        color_scheme=color_scheme,
        # Only so axe-core can be injected into pages served with our strict CSP; the app's own
        # CSP is exercised by test_look_browser.py with bypass_csp=False.
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = watch_console(page)
    return page


def watch_console(page: Page) -> list[str]:
    """Collect console errors and uncaught exceptions (CSP violations are reported as console errors)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def _close(pages: list[Page]) -> None:
    """Close the pages; a script error in any of them fails the test that opened it."""
    uncaught = [e for p in pages for e in p.console_errors if e.startswith("uncaught")]
    for p in pages:
        p.context.close()
    assert not uncaught, f"JavaScript errors in the page: {uncaught}"


@pytest.fixture
def page(browser) -> Iterator[Page]:
    page = _new_page(browser)
    yield page
    _close([page])


@pytest.fixture
def page_factory(browser) -> Iterator:
    pages: list[Page] = []

    def make(**kwargs) -> Page:
        pages.append(_new_page(browser, **kwargs))
        return pages[-1]

    yield make
    _close(pages)


def make_user(role: Role, username: str | None = None):
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username or role.value)
    user.set_password(PASSWORD)
    user.save()
    assign_role(user, role)
    return user


def login(page: Page, base_url: str, role: Role, username: str | None = None) -> None:
    """Log in through the real login form, as a person would."""
    user = make_user(role, username)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def axe_violations(page: Page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page; return the violations of the given impacts."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_no_axe_violations(page: Page) -> None:
    violations = axe_violations(page)
    summary = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:5]]} for v in violations
    ]
    assert not violations, "axe-core violations:\n" + json.dumps(summary, indent=2, ensure_ascii=False)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artifact (artifacts/screenshots/NAME.png): the whole page, or only
    what fits the viewport (what a phone shows without scrolling)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("document.activeElement && document.activeElement.blur && document.activeElement.blur()")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path
