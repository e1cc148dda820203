"""A storage's own capacity thresholds in a real browser (issue 12): an admin opens the form on the detail page,
saves, and sees the card's badge change in place (htmx) — and the same without JavaScript; the list's
"at or above critical" filter follows; the section has no serious axe violations and obeys the strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.accounts.roles import Role
from dashboard.capacity import services
from dashboard.capacity.models import ThresholdOverride
from tests.sim_helpers import storage_named

from .conftest import assert_no_axe_violations, login

pytestmark = pytest.mark.browser


def test_an_admin_sets_thresholds_and_the_badge_changes_in_place(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-sh-archive")["uuid"]  # 89 % used: a warning by the defaults
    page = page_factory(bypass_csp=False)
    login(page, url, Role.ADMIN)
    page.goto(f"{url}/storages/{uuid}/")
    card = page.locator(f"#storage-card-{uuid}")
    expect(card.locator(".badge--capacity-warning")).to_have_text(re.compile("Warning: 80% or more used"))
    page.get_by_role("link", name="Change thresholds").click()
    section = page.locator("#capacity-thresholds")
    section.get_by_label("Warning threshold (%)").fill("70")
    section.get_by_label("Critical threshold (%)").fill("85")
    section.get_by_role("button", name="Save thresholds").click()
    expect(section).to_contain_text("Thresholds saved.")
    expect(section).to_contain_text("Warning at 70% used, critical at 85% used.")
    expect(page).to_have_url(f"{url}/storages/{uuid}/")  # swapped in place, no navigation
    # The card refreshes itself: its badge now says critical, in words.
    expect(card.locator(".badge--capacity-critical")).to_have_text(re.compile("Critical: 85% or more used"))
    expect(card.locator(".badge--capacity-warning")).to_have_count(0)
    expect(page.locator("#storage-history")).to_contain_text("Capacity thresholds")  # out of band, no reload
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors

    # A wrong pair is refused with the message next to the field, and nothing changes.
    page.get_by_role("link", name="Change thresholds").click()
    section.get_by_label("Warning threshold (%)").fill("90")
    section.get_by_role("button", name="Save thresholds").click()
    expect(section).to_contain_text("The critical threshold must be above the warning threshold (90%).")
    expect(section.get_by_label("Critical threshold (%)")).to_have_attribute("aria-invalid", "true")
    row = ThresholdOverride.objects.get(storage_uuid=uuid)
    assert (row.warning_percent, row.critical_percent) == (70, 85)
    section.get_by_role("link", name="Cancel").click()

    # The list, filtered to critical by each storage's own thresholds (from a real snapshot).
    services.take_snapshot()
    page.goto(f"{url}/storages/")
    page.get_by_label("Capacity", exact=True).select_option("critical")
    expect(page.locator("#storage-table tbody tr")).to_have_count(2)
    expect(page.locator("#capacity-note")).to_contain_text("Filtered and ordered by used % as of")
    expect(page).to_have_url(re.compile(r"capacity=critical"))

    # Back to the defaults: a warning again.
    page.goto(f"{url}/storages/{uuid}/")
    page.get_by_role("button", name="Reset to the defaults").click()
    expect(section).to_contain_text("Thresholds reset to the defaults.")
    expect(card.locator(".badge--capacity-warning")).to_have_text(re.compile("Warning: 80% or more used"))


def test_without_javascript_the_form_is_a_page_of_its_own_and_the_badge_changes(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-sh-archive")["uuid"]
    page = page_factory(java_script=False)
    login(page, url, Role.ADMIN)
    page.goto(f"{url}/storages/{uuid}/")
    page.get_by_role("link", name="Change thresholds").click()
    expect(page).to_have_url(f"{url}/capacity/storages/{uuid}/thresholds/")
    page.get_by_label("Warning threshold (%)").fill("85")
    page.get_by_label("Critical threshold (%)").fill("88")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page).to_have_url(f"{url}/storages/{uuid}/")
    expect(page.locator(".messages")).to_contain_text("Thresholds saved.")
    expect(page.locator(f"#storage-card-{uuid} .badge--capacity-critical")).to_have_text(
        re.compile("Critical: 88% or more used")
    )


def test_a_viewer_sees_the_thresholds_without_the_buttons(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-sh-archive")["uuid"]
    page = page_factory()
    login(page, url, Role.VIEWER)
    page.goto(f"{url}/storages/{uuid}/")
    expect(page.locator("#capacity-thresholds")).to_contain_text("Warning at 80% used, critical at 90% used.")
    expect(page.get_by_role("link", name="Change thresholds")).to_have_count(0)
    assert_no_axe_violations(page)


@pytest.mark.parametrize(("scheme", "locale"), [("light", "en-US"), ("dark", "zh-CN")])
def test_the_open_form_and_its_errors_have_no_serious_axe_violations(browser_env, page_factory, scheme, locale):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = storage_named(sim, "bs-sh-archive")["uuid"]
    page = page_factory(color_scheme=scheme, locale=locale)
    login(page, url, Role.ADMIN)
    page.goto(f"{url}/storages/{uuid}/")
    page.locator("#capacity-thresholds a.button").click()
    form = page.locator("#capacity-thresholds form")
    form.locator("input[name=warning]").fill("0")
    form.locator("button[type=submit]").click()
    expect(page.locator("#capacity-thresholds .field-error")).to_have_count(1)
    assert_no_axe_violations(page)
