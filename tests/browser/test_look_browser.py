"""The look in a real browser, under the real Content-Security-Policy: no CSP violations or script
errors, our own stylesheet and favicon, titles that say where you are, dark mode from the OS, a
layout that fits a phone. Screenshots of the main screens are saved to artifacts/screenshots/."""

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import DESKTOP, PHONE, login, screenshot

pytestmark = pytest.mark.browser


def luminance(page: Page, selector: str, prop: str = "background-color") -> float:
    rgb = page.locator(selector).first.evaluate(f"el => getComputedStyle(el).getPropertyValue('{prop}')")
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_no_page_violates_the_strict_csp_or_throws_a_script_error(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    page = page_factory(bypass_csp=False)
    responses = []
    page.on("response", lambda r: responses.append(r) if r.request.resource_type == "document" else None)

    login(page, url, Role.ADMIN)
    page.get_by_label("State").select_option("Enabled")  # htmx swap of the table
    expect(page).to_have_url(re.compile(r"state=Enabled"))
    page.goto(f"{url}/storages/{uuid}/")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    page.get_by_label("Description", exact=True).fill("CSP check")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(f"#storage-card-{uuid} .alert--success")).to_be_visible()
    page.evaluate("htmx.trigger(document.querySelector('[data-poll]'), 'storage-refresh')")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Disable…").click()
    expect(page.locator(f"#storage-confirm-{uuid}")).to_be_visible()
    page.goto(f"{url}/audit/")
    page.get_by_label("Outcome").select_option(label="Succeeded")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"outcome=succeeded"))
    page.goto(f"{url}/storages/{'0' * 32}/")
    page.wait_for_load_state("networkidle")

    # the one expected console error: the browser's own note that the last page answered 404
    errors = [e for e in page.console_errors if "status of 404" not in e]
    assert errors == [], errors
    assert page.evaluate("!!window.htmx"), "htmx did not load under the CSP"
    assert page.locator("[style]").count() == 0  # no inline styles, even after swaps
    policy = responses[-1].headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_pages_use_the_local_stylesheet_and_favicon_and_say_where_you_are(browser_env, page):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-sh-archive")["uuid"]
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(url) else None)

    page.goto(url + "/accounts/login/")
    expect(page).to_have_title("Log in · ImageStore Storage Console")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    favicon = page.request.get(url + icon)
    assert favicon.ok and favicon.headers["content-type"].startswith("image/svg+xml")
    stylesheet = page.locator("link[rel=stylesheet]")
    expect(stylesheet).to_have_count(1)
    assert page.request.get(url + stylesheet.get_attribute("href")).ok

    login(page, url, Role.ADMIN)
    expect(page).to_have_title("Backup storages · ImageStore Storage Console")
    page.goto(f"{url}/storages/{uuid}/")
    expect(page).to_have_title("bs-sh-archive · ImageStore Storage Console")
    page.goto(f"{url}/storages/{uuid}/edit/")
    expect(page).to_have_title(re.compile(r"^Edit backup storage.* · ImageStore Storage Console$"))
    page.goto(f"{url}/audit/")
    expect(page).to_have_title("Audit log · ImageStore Storage Console")
    assert external == [], f"requests left the server: {external}"


def test_dark_mode_follows_the_operating_system(browser_env, page_factory):
    light = page_factory(color_scheme="light")
    dark = page_factory(color_scheme="dark")
    for page in (light, dark):
        login(page, browser_env["url"], Role.ADMIN)

    assert luminance(light, "body") > 0.9
    assert luminance(dark, "body") < 0.15
    assert luminance(dark, "body", "color") > 0.8  # light text on the dark background
    assert luminance(dark, ".table-scroll") < 0.2  # surfaces follow, not only the page background


def test_the_list_fits_a_phone_without_sideways_scrolling(browser_env, page_factory):
    phone = page_factory(viewport=PHONE)
    login(phone, browser_env["url"], Role.ADMIN)
    expect(phone.locator("#storage-table tbody tr")).to_have_count(12)

    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first_row = phone.locator("#storage-table tbody tr").first
    assert first_row.bounding_box()["width"] <= PHONE["width"]
    expect(first_row.get_by_role("link")).to_be_in_viewport()


@pytest.mark.parametrize(
    "name,viewport,scheme",
    [
        ("desktop", DESKTOP, "light"),
        ("desktop-dark", DESKTOP, "dark"),
        ("phone", PHONE, "light"),
    ],
)
def test_screenshots_of_the_main_screens(browser_env, page_factory, name, viewport, scheme):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    page = page_factory(viewport=viewport, color_scheme=scheme)

    def shoot(screen: str) -> None:
        screenshot(page, f"{screen}-{name}")
        if viewport is PHONE:
            screenshot(page, f"{screen}-{name}-first-screen", full_page=False)

    page.goto(url + "/accounts/login/")
    shoot("login")
    login(page, url, Role.ADMIN)
    expect(page.locator("#storage-table tbody tr")).to_have_count(12)
    shoot("list")
    if name == "desktop":  # the README's picture (docs/screenshot-list.png) is a copy of this one
        screenshot(page, "readme-list", full_page=False)
    page.goto(f"{url}/storages/{uuid}/")
    shoot("detail")
    if name == "phone":  # the README's phone picture (docs/screenshot-phone.png) is a copy of this one
        screenshot(page, "readme-phone", full_page=False)
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    expect(page.locator(f"#storage-edit-{uuid}")).to_be_visible()
    shoot("edit")
    page.goto(f"{url}/audit/")
    shoot("audit")
