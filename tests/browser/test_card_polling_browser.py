"""The storage card polls itself, and the polling is paused while the tab is hidden (static/js/app.js):
a background tab must not keep ZStack busy. Time is Playwright's fake clock; visibility is made
controllable by the test, since a headless page is always "visible"."""

import pytest
from playwright.sync_api import expect

from dashboard.accounts.roles import Role

from .conftest import login

pytestmark = pytest.mark.browser

# document.visibilityState and document.hidden follow window.__testHidden, set by the test.
CONTROLLABLE_VISIBILITY = """
window.__testHidden = false;
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: function () { return window.__testHidden ? "hidden" : "visible"; }
});
Object.defineProperty(document, "hidden", {
  configurable: true, get: function () { return window.__testHidden; }
});
"""


def set_hidden(page, hidden: bool) -> None:
    page.evaluate(
        "hidden => { window.__testHidden = hidden; document.dispatchEvent(new Event('visibilitychange')); }", hidden
    )


def mark_card(page) -> None:
    """Tag the card in the page now, so the test can tell when a refreshed one has replaced it."""
    page.evaluate("document.querySelector('[data-poll]').setAttribute('data-test-old', '')")


def expect_card_replaced(page, card) -> None:
    expect(page.locator("[data-poll][data-test-old]")).to_have_count(0)
    expect(card).to_have_count(1)


def test_the_card_polling_is_paused_while_the_tab_is_hidden(browser_env, page):
    sim, url = browser_env["sim"], browser_env["url"]
    storage = next(s for s in sim.storages() if s["name"] == "bs-prod-bj-01")  # Connected: polls every 30 s
    card_path = f"/storages/{storage['uuid']}/card/"
    card_requests: list[str] = []
    page.on("request", lambda request: card_requests.append(request.url) if card_path in request.url else None)
    page.add_init_script(CONTROLLABLE_VISIBILITY)
    page.clock.install()
    login(page, url, Role.ADMIN)
    page.goto(f"{url}/storages/{storage['uuid']}/")
    card = page.locator(f"#storage-card-{storage['uuid']}")
    expect(card).to_have_attribute("data-poll-seconds", "30")
    assert page.evaluate("document.visibilityState") == "visible"
    assert card_requests == []

    # Visible: the card asks for itself again once its 30 s are up.
    mark_card(page)
    with page.expect_request(lambda request: card_path in request.url):
        page.clock.run_for("00:31")
    expect_card_replaced(page, card)

    # Hidden: ten minutes of polling intervals pass without a single request.
    set_hidden(page, True)
    before = len(card_requests)
    page.clock.run_for("10:00")
    page.wait_for_timeout(500)  # real time, for any request the timers might have started
    assert card_requests[before:] == []

    # Visible again: the card is stale by then, so it refreshes at once, then keeps polling.
    mark_card(page)
    with page.expect_request(lambda request: card_path in request.url, timeout=5_000):
        set_hidden(page, False)  # no clock advance: the refresh comes from the visibilitychange itself
    expect_card_replaced(page, card)
    mark_card(page)
    with page.expect_request(lambda request: card_path in request.url):
        page.clock.run_for("00:31")
    expect_card_replaced(page, card)
