"""No page is wider than the screen (issue 13): every page, at a phone's 390 px and a laptop's 1366 px,
with the longest values ZStack accepts present (a 255-character name without a space, a long host name,
SSH user, description and tag) on the storage, in its card after an in-place save, in its diffs and in the
audit log. Tables stack or scroll inside their own box; long words wrap."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import LONG_TAG, LONG_WORD, give_long_values, storage_named

from .conftest import login, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


def assert_fits(page: Page, what: str, viewport: dict) -> None:
    """The document is no wider than the viewport: nothing scrolls the page sideways."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > viewport["width"]:
        culprits = page.evaluate(
            """(limit) => [...document.querySelectorAll('body *')]
                 .filter(el => el.getBoundingClientRect().right > limit + 1)
                 .slice(0, 5).map(el => el.tagName + '.' + el.className + '#' + el.id)""",
            viewport["width"],
        )
        raise AssertionError(f"{what} is {width} px wide at {viewport['width']} px: {culprits}")


def assert_nothing_scrolled_out_of_sight(page: Page, region: str, viewport: dict) -> None:
    """On a phone the events of the audit log and of "Recent changes" are blocks: no column of them waits
    out of sight in a sideways-scrolling box (a clipped Changes column and tall empty rows, before)."""
    if viewport is not PHONE:
        return
    hidden = page.locator(f"{region} .table-scroll").evaluate_all(
        "boxes => boxes.map(box => box.scrollWidth - box.clientWidth).filter(extra => extra > 1)"
    )
    assert hidden == [], f"{region} hides {hidden} px sideways"


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_no_page_is_wider_than_the_viewport_with_the_longest_values(browser_env, page_factory, viewport):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    give_long_values(sim, uuid)
    page = page_factory(viewport=viewport)
    size = f"{viewport['width']}px"

    page.goto(f"{url}/accounts/login/")
    assert_fits(page, "the login page", viewport)
    login(page, url, Role.ADMIN)
    expect(page.locator("#storage-table .storage-link", has_text=LONG_WORD[:40])).to_be_visible()
    assert_fits(page, "the list", viewport)

    page.goto(f"{url}/storages/{uuid}/")
    expect(page.locator("#storage-title")).to_have_text(LONG_WORD)
    expect(page.locator(f"#storage-card-{uuid}")).to_contain_text(LONG_TAG)
    assert_fits(page, "the detail page", viewport)

    # In place (htmx): the edit form, its errors, then the saved card with its new "Recent changes".
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    form = page.locator(f"#storage-edit-{uuid}")
    expect(form).to_be_visible()
    assert_fits(page, "the edit form in the card", viewport)
    form.get_by_label("SSH port").fill("70000")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".field-error")).to_have_text("SSH port must be between 1 and 65535.")
    assert_fits(page, "the edit form with its errors", viewport)
    form.get_by_label("SSH port").fill("22")
    form.get_by_label("Description", exact=True).fill("d" * 600)
    tags = form.get_by_label("User tags")
    tags.fill(tags.input_value() + "\nteam::" + "q" * 249)
    form.get_by_role("button", name="Save").click()
    card = page.locator(f"#storage-card-{uuid} .alert--success")
    expect(card).to_be_visible()
    expect(page.locator("#storage-history")).to_contain_text("team::")
    assert_fits(page, "the card after the in-place save", viewport)
    assert_nothing_scrolled_out_of_sight(page, "#storage-history", viewport)
    screenshot(page, f"layout-long-values-card-{size}")

    page.goto(f"{url}/storages/{uuid}/edit/")
    assert_fits(page, "the edit page", viewport)
    page.goto(f"{url}/storages/{uuid}/disable/")
    expect(page.locator(f"#storage-confirm-{uuid}")).to_be_visible()
    assert_fits(page, "the disable confirmation", viewport)
    page.goto(f"{url}/audit/")
    expect(page.locator("#audit-results")).to_contain_text("team::")
    assert_fits(page, "the audit log", viewport)
    assert_nothing_scrolled_out_of_sight(page, "#audit-results", viewport)
    screenshot(page, f"layout-long-values-audit-{size}")
    page.goto(f"{url}/capacity/")
    assert_fits(page, "the capacity page", viewport)
    page.goto(f"{url}/accounts/logout/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log out?")
    assert_fits(page, "the logout confirmation", viewport)

    for path, status, what in [
        ("/no-such-page/", 404, "the 404 page"),
        (f"/storages/{'0' * 32}/", 404, "the 404 page of an unknown storage"),
        (f"/storages/{uuid}/reconnect/", 405, "the 405 page"),
    ]:
        assert page.goto(url + path).status == status
        assert_fits(page, what, viewport)

    viewer = page_factory(viewport=viewport)
    login(viewer, url, Role.VIEWER)
    assert viewer.goto(f"{url}/audit/").status == 403
    assert_fits(viewer, "the 403 page", viewport)
    viewer.goto(f"{url}/storages/{uuid}/")
    assert_fits(viewer, "the detail page for a viewer", viewport)


def test_the_phone_header_is_two_short_rows(browser_env, page_factory):
    page = page_factory(viewport=PHONE)
    login(page, browser_env["url"], Role.ADMIN)
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 100, header  # was 165 px in four rows
    expect(page.get_by_role("link", name="ImageStore Storage Console")).to_be_visible()  # the logo, named
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_on_a_phone_the_filters_fold_behind_a_summary_that_opens_them(browser_env, page_factory, java_script):
    page = page_factory(viewport=PHONE, java_script=java_script)
    login(page, browser_env["url"], Role.ADMIN)
    state = page.get_by_label("State")
    expect(state).to_be_hidden()
    expect(page.locator("#storage-table tbody tr").first).to_be_in_viewport()  # the storages on the first screen
    page.get_by_text("Search and filters").click()
    expect(state).to_be_visible()
    state.select_option("Disabled")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"state=Disabled"))
    expect(page.get_by_label("State")).to_be_visible()  # open while a filter is set

    wide = page_factory(viewport=LAPTOP, java_script=java_script)
    login(wide, browser_env["url"], Role.ADMIN)
    expect(wide.get_by_label("State")).to_be_visible()  # always open on a wide screen
    expect(wide.get_by_text("Search and filters")).to_be_hidden()


def test_the_password_input_lines_up_with_the_other_inputs_of_its_row(browser_env, page_factory):
    uuid = storage_named(browser_env["sim"], "bs-prod-bj-01")["uuid"]
    page = page_factory(viewport=LAPTOP)
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/edit/")
    tops = {
        name: page.locator(f"#id_{name}").bounding_box()["y"]
        for name in ("hostname", "sshPort", "username", "password")
    }
    assert len(set(tops.values())) == 1, tops  # one row of four; the password's help sits below its input
    expect(page.locator("#id_password_helptext")).to_be_visible()
