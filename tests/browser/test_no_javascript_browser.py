"""The core flows with JavaScript disabled: plain links and form posts, post/redirect/get, no htmx."""

import re

import pytest
from playwright.sync_api import expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import PASSWORD, make_user, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def nojs(page_factory):
    page = page_factory(java_script=False)
    assert page.evaluate("1 + 1") == 2  # Playwright's own evaluation still works; the page's scripts do not
    return page


def log_in(page, base_url: str) -> None:
    user = make_user(Role.ADMIN)
    page.goto(base_url + "/storages/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/storages/$"))


def test_without_javascript_an_administrator_logs_in_filters_pages_and_logs_out(browser_env, nojs):
    page = nojs
    log_in(page, browser_env["url"])
    expect(page.locator("html")).not_to_have_class(re.compile(r"js-enabled"))
    expect(page.locator("#storage-table tbody tr")).to_have_count(12)

    page.get_by_label("Search by name or UUID").fill("bs-")
    page.get_by_label("Status").select_option("Connected")
    page.get_by_label("Sort by").select_option("-name")
    page.get_by_label("Per page").select_option("10")
    page.get_by_role("button", name="Apply").click()

    # The plain GET form sends every field; the console redirects to the URL without the empty ones (issue 13).
    expect(page).to_have_url(re.compile(r"/storages/\?q=bs-&status=Connected&sort=-name&page_size=10$"))
    names = page.locator("#storage-table tbody .storage-link").all_inner_texts()
    assert names == sorted(names, reverse=True) and len(names) == 6
    assert all(n.startswith("bs-") for n in names)
    expect(page.get_by_label("Status")).to_have_value("Connected")  # the form shows the filters in use

    page.get_by_label("Search by name or UUID").fill("")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#storage-table tbody tr")).to_have_count(2)
    screenshot(page, "list-no-js")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(browser_env["url"] + "/storages/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))


def test_without_javascript_an_edit_is_saved_by_a_form_post_and_redirects_to_the_card(browser_env, nojs):
    page = nojs
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-ci-cache")["uuid"]
    log_in(page, browser_env["url"])

    page.get_by_role("link", name="bs-ci-cache").click()
    expect(page.locator(f"#storage-card-{uuid}")).to_contain_text("ci-cache.example.org")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/edit/$"))

    page.get_by_label("SSH port").fill("70000")
    page.get_by_role("button", name="Save").click()
    port = page.get_by_label("SSH port")
    expect(port).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#" + port.get_attribute("aria-describedby").split()[-1])).to_contain_text("65535")

    page.get_by_label("Name", exact=True).fill("ci-cache-plain-post")
    port.fill("2201")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/$"))  # post/redirect/get
    expect(page.locator(".messages")).to_contain_text("Saved")
    card = page.locator(f"#storage-card-{uuid}")
    expect(card).to_contain_text("ci-cache-plain-post")
    expect(card).to_contain_text("2201")
    expect(page.get_by_role("heading", level=1)).to_have_text("ci-cache-plain-post")
    assert storage_named(sim, "ci-cache-plain-post")["sshPort"] == 2201


def test_without_javascript_an_upstream_error_keeps_the_input_on_the_edit_page(browser_env, nojs):
    page = nojs
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-ci-cache")["uuid"]
    log_in(page, browser_env["url"])
    page.goto(f"{browser_env['url']}/storages/{uuid}/edit/")
    page.get_by_label("Description", exact=True).fill("A description ZStack will refuse")
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "the image store agent is not responding"}])

    page.get_by_role("button", name="Save").click()

    expect(page.locator(f"#storage-edit-{uuid}-error")).to_contain_text("the image store agent is not responding")
    expect(page.get_by_label("Description", exact=True)).to_have_value("A description ZStack will refuse")


def test_without_javascript_disable_asks_on_its_own_page_and_then_disables(browser_env, nojs):
    page = nojs
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-ci-cache")["uuid"]
    log_in(page, browser_env["url"])
    page.goto(f"{browser_env['url']}/storages/{uuid}/")

    page.get_by_role("link", name="Disable…").click()
    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/disable/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Disable backup storage")
    assert storage_named(sim, "bs-ci-cache")["state"] == "Enabled"
    page.get_by_role("button", name="Disable").click()

    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/$"))
    expect(page.locator(".messages")).to_contain_text("Disabled.")
    expect(page.locator(f"#storage-card-{uuid} .badges")).to_contain_text("Disabled")
    assert storage_named(sim, "bs-ci-cache")["state"] == "Disabled"
