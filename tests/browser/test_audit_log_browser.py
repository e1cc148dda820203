"""The audit log in a real browser: accessible, and its filter form works with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit.log import Action, FieldChange, Outcome, record

from .conftest import assert_no_axe_violations, login, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def audit_events(transactional_db):
    actor = Actor(user_id=None, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="Firefox")
    changes = (
        FieldChange("name", before="old", after="bs-alpha"),
        FieldChange("password"),
        FieldChange("userTags", added=("gold",)),
    )
    attempt = record(
        actor=actor,
        action=Action.UPDATE,
        storage_uuid="a" * 32,
        storage_name="bs-alpha",
        outcome=Outcome.ATTEMPTED,
        changes=changes,
    )
    record(
        actor=actor,
        action=Action.UPDATE,
        storage_uuid="a" * 32,
        storage_name="bs-alpha",
        outcome=Outcome.SUCCEEDED,
        attempt=attempt,
        changes=changes,
    )
    record(
        actor=actor,
        action=Action.RECONNECT,
        storage_uuid="b" * 32,
        storage_name="bs-beta",
        outcome=Outcome.FAILED,
        error_code="SYS.1006",
        error_message="Host unreachable",
    )


def test_the_audit_log_has_no_serious_accessibility_violations(browser_env, page, audit_events):
    login(page, browser_env["url"], Role.AUDITOR)
    page.goto(f"{browser_env['url']}/audit/")

    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    screenshot(page, "audit-log")
    assert_no_axe_violations(page)


def test_filtering_with_htmx_replaces_only_the_results_and_updates_the_url(browser_env, page, audit_events):
    login(page, browser_env["url"], Role.AUDITOR)
    page.goto(f"{browser_env['url']}/audit/")
    page.evaluate("window.__noReload = true")

    page.get_by_label("Outcome").select_option("failed")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"outcome=failed"))
    expect(page.locator("#audit-results tbody tr")).to_have_count(1)
    expect(page.locator("#audit-results")).to_contain_text("SYS.1006")
    assert page.evaluate("window.__noReload") is True  # no full page load happened


def test_filtering_without_javascript_reloads_the_page_with_the_filters(browser_env, page_factory, audit_events):
    page = page_factory(java_script=False)
    login(page, browser_env["url"], Role.AUDITOR)
    page.goto(f"{browser_env['url']}/audit/")

    page.get_by_label("Actor").fill("nobody")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"actor=nobody"))
    expect(page.locator("#audit-results")).to_contain_text("No events match")


def test_each_submission_is_one_row_whose_details_open_from_the_keyboard(browser_env, page, audit_events):
    login(page, browser_env["url"], Role.AUDITOR)
    page.goto(f"{browser_env['url']}/audit/")

    rows = page.locator("#audit-results tbody tr")
    # The update's attempt and outcome are one entry; the failed reconnect another; the auditor's login a third.
    expect(rows).to_have_count(3)
    update = rows.filter(has_text="bs-alpha")
    expect(update).to_have_count(1)
    expect(update.get_by_role("link", name="bs-alpha")).to_have_attribute("href", "/storages/" + "a" * 32 + "/")
    browser_agent = update.get_by_text("Firefox", exact=True)
    expect(browser_agent).to_be_hidden()  # address, browser, job ids and hashes wait behind "Details"

    summary = update.locator("summary")
    summary.focus()
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    expect(update.locator("details")).to_have_attribute("open", "")
    expect(browser_agent).to_be_visible()
    expect(update.locator("details")).to_contain_text("127.0.0.1")
    expect(update.locator("code.hash")).to_have_count(2)  # the attempt's row and the outcome's
    page.keyboard.press("Space")
    expect(browser_agent).to_be_hidden()
    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", [390, 1366])
def test_long_values_wrap_and_the_log_never_widens_the_page(browser_env, page, audit_events, width):
    long_name = "n" * 255  # the form and ZStack both accept it; the trail keeps it forever
    record(
        actor=Actor(user_id=None, username="u" * 150, role=Role.ADMIN, ip="127.0.0.1", user_agent="x" * 512),
        action=Action.UPDATE,
        storage_uuid="c" * 32,
        storage_name=long_name,
        outcome=Outcome.INVALID,
        changes=(FieldChange("name", before="short", after=long_name),),
        error_code="SYS.1007",
        error_message="e" * 600,
    )
    login(page, browser_env["url"], Role.AUDITOR)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{browser_env['url']}/audit/")
    entry = page.locator("#audit-results tbody tr", has_text="nnnn")
    entry.locator("summary").click()  # open details (a 512-character browser string, hashes) must not widen it

    expect(entry.locator("details")).to_contain_text("xxxx")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width == 1366:  # wide enough: the entries wrap inside the page, no sideways scrolling of the table at all
        scroll = page.locator("#audit-results .table-scroll")
        assert scroll.evaluate("el => el.scrollWidth <= el.clientWidth")
