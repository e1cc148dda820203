"""Failed htmx requests are shown to the user (htmx swaps only 2xx answers), in a real browser under
the real Content-Security-Policy: the error page's own words, visible and in the live region."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from dashboard.accounts.roles import Role, assign_role

from .conftest import login

pytestmark = pytest.mark.browser


def test_a_403_to_an_htmx_click_is_shown_when_the_role_was_taken_away_meanwhile(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = sim.storages()[0]["uuid"]
    page = page_factory(bypass_csp=False)
    login(page, url, Role.ADMIN, "demoted")
    page.goto(f"{url}/storages/{uuid}/")
    card = page.locator(f"#storage-card-{uuid}")
    # Another admin changes the role meanwhile (the password stays: the session stays valid).
    assign_role(get_user_model().objects.get(username="demoted"), Role.VIEWER)

    card.get_by_role("link", name="Edit").click()

    error = page.locator("#request-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Not allowed")
    expect(error).to_contain_text("Your role does not allow this.")
    expect(page.locator("#live-region")).to_contain_text("Not allowed")
    expect(card).to_be_visible()  # the page stays as it was: nothing swapped
    # Only the browser's and htmx's own notes of the 403: no script error, no CSP violation.
    assert [e for e in page.console_errors if "403" not in e] == []


def test_a_500_to_the_cards_refresh_is_shown_in_chinese(browser_env, page_factory, monkeypatch):
    sim, url = browser_env["sim"], browser_env["url"]
    uuid = sim.storages()[0]["uuid"]
    page = page_factory(bypass_csp=False, locale="zh-CN")
    login(page, url, Role.VIEWER)
    page.goto(f"{url}/storages/{uuid}/")

    from dashboard.storages import selectors

    def broken(**kwargs):
        raise RuntimeError("a bug in the card")

    monkeypatch.setattr(selectors, "storage_detail_soon", broken)  # the live server runs in this process
    page.evaluate("htmx.trigger(document.querySelector('[data-poll]'), 'storage-refresh')")

    error = page.locator("#request-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("出错了")
    expect(page.locator("#live-region")).to_contain_text("出错了")
    assert page.locator("[style]").count() == 0
