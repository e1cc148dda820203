"""The administrator's flows in a real browser with JavaScript (htmx): log in, find a storage, open its
card, edit it in place, meet upstream errors and stale forms, reconnect and disable it, log out."""

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import PASSWORD, login, make_user, screenshot

pytestmark = pytest.mark.browser


def table_names(page: Page) -> list[str]:
    return page.locator("#storage-table tbody .storage-link").all_inner_texts()


def open_edit_form(page: Page, base_url: str, uuid: str):
    page.goto(f"{base_url}/storages/{uuid}/")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    form = page.locator(f"#storage-edit-{uuid}")
    expect(form).to_be_visible()
    return form


def mark_window(page: Page) -> None:
    """A marker that survives only if no full page load happens afterwards."""
    page.evaluate("window.__marker = 1")


def busy_indicator(page: Page):
    """The loading indicators htmx is showing right now (the global bar or a card's spinner)."""
    return page.locator(".htmx-indicator.htmx-request, .htmx-request .htmx-indicator").first


def assert_no_reload(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped in place"


# --- log in and out --------------------------------------------------------------------------------


def test_logging_in_with_the_form_lands_on_the_storage_list(browser_env, page):
    user = make_user(Role.ADMIN)
    page.goto(browser_env["url"] + "/storages/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/storages/"))

    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/storages/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ImageStore backup storages")
    expect(page.locator(".user-badge")).to_contain_text(user.username)


def test_a_wrong_password_keeps_the_user_on_the_login_form_with_an_error(browser_env, page):
    make_user(Role.ADMIN)
    page.goto(browser_env["url"] + "/accounts/login/")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("User name")).to_have_attribute("aria-describedby", "login-errors")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_logging_out_ends_the_session(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator(".messages")).to_have_text("You are logged out.")
    page.goto(browser_env["url"] + "/storages/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))


# --- the list --------------------------------------------------------------------------------------


def test_searching_the_list_replaces_only_the_table_and_keeps_the_url_shareable(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    mark_window(page)

    page.get_by_label("Search by name or UUID").fill("bs-prod")
    page.get_by_role("button", name="Apply").click()

    # The pushed URL is the clean one: the form's empty fields and defaults are not in it (issue 13).
    expect(page).to_have_url(re.compile(r"/storages/\?q=bs-prod$"))
    expect(page.locator("#storage-table tbody tr")).to_have_count(2)
    assert table_names(page) == ["bs-prod-bj-01", "bs-prod-bj-02"]
    expect(page.locator("#storage-count")).to_contain_text("2 backup storages")
    assert_no_reload(page)
    expect(page.locator("#live-region")).to_have_text("2 backup storages")


def test_filtering_by_state_status_and_zone_narrows_the_list(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)

    page.get_by_label("State").select_option("Disabled")
    expect(page).to_have_url(re.compile(r"state=Disabled"))
    expect(page.locator("#storage-table tbody tr")).to_have_count(2)
    assert sorted(table_names(page)) == ["bs-dev-shared", "bs-legacy-2019"]

    page.get_by_label("Status").select_option("Disconnected")
    expect(page).to_have_url(re.compile(r"status=Disconnected"))
    expect(page.locator("#storage-table tbody tr")).to_have_count(1)
    assert table_names(page) == ["bs-legacy-2019"]

    page.get_by_role("link", name="Reset").click()
    page.get_by_label("Zone").select_option(label="华南-深圳")
    expect(page).to_have_url(re.compile(r"zone="))
    expect(page.locator("#storage-table tbody tr")).to_have_count(5)
    for row in page.locator("#storage-table tbody tr").all():
        expect(row).to_contain_text("华南-深圳")


def test_a_search_that_matches_nothing_says_so(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    page.get_by_label("Search by name or UUID").fill("no-such-storage")
    page.get_by_role("button", name="Apply").click()

    expect(page.locator("#storage-table")).to_contain_text("No backup storage matches these filters.")
    expect(page.locator("#storage-table table")).to_have_count(0)


def test_sorting_by_total_capacity_descending_orders_the_rows(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    page.get_by_label("Sort by").select_option("-totalCapacity")

    expect(page).to_have_url(re.compile(r"sort=-totalCapacity"))
    expect(page.locator("#storage-table tbody tr").first).to_contain_text("bs-sh-archive")  # 200 TiB
    expect(page.locator("#storage-table tbody tr").last).to_contain_text("bs-ci-cache")  # 4 TiB


def test_paging_through_the_list_shows_every_storage_once(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    page.get_by_label("Per page").select_option("10")
    expect(page.locator("#storage-table tbody tr")).to_have_count(10)
    expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")
    first_page = table_names(page)
    mark_window(page)

    expect(page.locator('.pagination [aria-current="page"]')).to_have_text("Page 1")
    page.get_by_role("link", name="Next").click()

    expect(page).to_have_url(re.compile(r"/storages/\?page_size=10&page=2$"))
    expect(page.locator(".pagination")).to_contain_text("Page 2 of 2")
    expect(page.locator('.pagination [aria-current="page"]')).to_have_text("Page 2")
    expect(page.locator("#storage-table tbody tr")).to_have_count(2)
    assert set(first_page).isdisjoint(table_names(page))
    assert len(set(first_page) | set(table_names(page))) == 12
    assert_no_reload(page)

    page.get_by_role("link", name="Previous").click()
    expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")


def test_the_browser_back_button_restores_the_previous_filter(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    page.get_by_label("State").select_option("Disabled")
    expect(page.locator("#storage-table tbody tr")).to_have_count(2)

    page.go_back()

    expect(page).not_to_have_url(re.compile(r"state="))
    expect(page.locator("#storage-table tbody tr")).to_have_count(12)


# --- the card --------------------------------------------------------------------------------------


def test_opening_a_storage_from_the_list_shows_its_inventory_card(browser_env, page):
    sim = browser_env["sim"]
    storage = storage_named(sim, "bs-sh-archive")
    login(page, browser_env["url"], Role.ADMIN)

    page.get_by_role("link", name="bs-sh-archive").click()

    expect(page).to_have_url(re.compile(rf"/storages/{storage['uuid']}/$"))
    card = page.locator(f"#storage-card-{storage['uuid']}")
    expect(card).to_be_visible()
    expect(page).to_have_title(re.compile(r"^bs-sh-archive · "))
    for text in (
        "Cold archive of retired templates",
        storage["uuid"],
        "200.0 TiB",
        "198.51.100.20",
        "zstack",
        "2222",
        "zone-shanghai-02",
        "priority::low",
        "archive",
        "Enabled",
        "Connected",
    ):
        expect(card).to_contain_text(text)
    # exact bytes on hover
    expect(card.locator("dd[title]", has_text="200.0 TiB")).to_have_attribute("title", "219,902,325,555,200 bytes")


def test_an_unknown_storage_shows_the_not_found_page(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    response = page.goto(browser_env["url"] + "/storages/" + "0" * 32 + "/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page).to_have_title(re.compile(r"^Not found · "))


# --- edit ------------------------------------------------------------------------------------------


def test_saving_the_edit_form_swaps_the_refreshed_card_in_place_without_a_reload(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)
    expect(form.get_by_label("Name", exact=True)).to_have_value("bs-prod-bj-02")
    expect(form.get_by_label("SSH password")).to_have_value("")

    form.get_by_label("Name", exact=True).fill("bs-prod-bj-02-renamed")
    form.get_by_label("Description", exact=True).fill("Moved to the new rack")
    form.get_by_label("SSH port").fill("2022")
    form.get_by_label("User tags").fill("env::prod\nowner::platform")
    mark_window(page)
    form.get_by_role("button", name="Save").click()

    card = page.locator(f"#storage-card-{uuid}")
    expect(card).to_be_visible()
    expect(page.locator(f"#storage-edit-{uuid}")).to_have_count(0)
    expect(card.locator(".alert--success")).to_contain_text("Saved")
    for text in ("bs-prod-bj-02-renamed", "Moved to the new rack", "2022", "owner::platform"):
        expect(card).to_contain_text(text)
    assert_no_reload(page)
    expect(card).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("Saved")
    # The heading, the breadcrumb and the page's recent changes follow the card (out-of-band swaps).
    expect(page.locator("#storage-title")).to_have_text("bs-prod-bj-02-renamed")
    expect(page.locator("#storage-crumb")).to_have_text("bs-prod-bj-02-renamed")
    expect(page.locator("#storage-history")).to_contain_text("Moved to the new rack")
    # ZStack really has the new values
    stored = next(s for s in sim.storages() if s["uuid"] == uuid)
    assert (stored["name"], stored["description"], stored["sshPort"]) == (
        "bs-prod-bj-02-renamed",
        "Moved to the new rack",
        2022,
    )
    screenshot(page, "card-after-save")


def test_an_invalid_value_comes_back_with_the_error_linked_and_focused(browser_env, page):
    uuid = storage_named(browser_env["sim"], "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)

    form.get_by_label("SSH port").fill("70000")
    form.get_by_label("Host name or IP address").fill("bad host!")
    mark_window(page)
    form.get_by_role("button", name="Save").click()

    hostname = page.locator(f"#storage-edit-{uuid}").get_by_label("Host name or IP address")
    expect(hostname).to_have_attribute("aria-invalid", "true")
    expect(hostname).to_be_focused()  # the first invalid field
    expect(hostname).to_have_value("bad host!")
    described_by = hostname.get_attribute("aria-describedby").split()
    error = page.locator(f"#{described_by[-1]}")
    expect(error).to_contain_text("Enter a valid host name or IP address.")
    port = page.locator(f"#storage-edit-{uuid}").get_by_label("SSH port")
    expect(page.locator("#" + port.get_attribute("aria-describedby").split()[-1])).to_contain_text("65535")
    expect(page.locator("#live-region")).to_contain_text("Please correct the errors below.")
    assert_no_reload(page)
    screenshot(page, "edit-form-errors")


def test_an_upstream_failure_shows_zstacks_message_and_keeps_the_input(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)
    form.get_by_label("Name", exact=True).fill("bs-prod-bj-01-new")
    form.get_by_label("SSH password").fill("a-new-secret-pw")
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "the image store agent is not responding"}])
    mark_window(page)

    form.get_by_role("button", name="Save").click()

    error = page.locator(f"#storage-edit-{uuid}-error")
    expect(error).to_contain_text("ZStack did not save the change")
    expect(error).to_contain_text("SYS.1006")
    expect(error).to_contain_text("the image store agent is not responding")
    expect(error).to_contain_text("Correlation id")
    form = page.locator(f"#storage-edit-{uuid}")
    expect(form.get_by_label("Name", exact=True)).to_have_value("bs-prod-bj-01-new")
    expect(form.get_by_label("SSH password")).to_have_value("")  # never rendered back
    assert_no_reload(page)
    assert storage_named(sim, "bs-prod-bj-01")  # nothing renamed in ZStack
    screenshot(page, "edit-form-upstream-error")


def test_a_form_loaded_before_someone_else_changed_the_storage_is_not_saved_blindly(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-dev-shared")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)
    sim.patch_storage(uuid, name="renamed-by-a-colleague")

    form.get_by_label("Name", exact=True).fill("my-new-name")
    form.get_by_role("button", name="Save").click()

    stale = page.locator(f"#storage-edit-{uuid}-stale")
    expect(stale).to_contain_text("This storage changed in ZStack since you opened the form")
    row = stale.locator("tbody tr")
    expect(row).to_have_count(1)  # only the field both changed
    expect(row.locator("td")).to_have_text(["bs-dev-shared", "renamed-by-a-colleague", "my-new-name"])
    assert next(s for s in sim.storages() if s["uuid"] == uuid)["name"] == "renamed-by-a-colleague"
    expect(page.locator(f"#storage-edit-{uuid}").get_by_label("Name", exact=True)).to_have_value("my-new-name")
    screenshot(page, "edit-form-stale")

    page.get_by_role("button", name="Save anyway").click()

    expect(page.locator(f"#storage-card-{uuid}")).to_contain_text("my-new-name")
    assert next(s for s in sim.storages() if s["uuid"] == uuid)["name"] == "my-new-name"


def test_a_status_change_behind_the_form_does_not_stop_the_save(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)
    sim.patch_storage(uuid, status="Disconnected", name="renamed-meanwhile")  # not the field edited here

    form.get_by_label("Description", exact=True).fill("edited while it changed")
    form.get_by_role("button", name="Save").click()

    card = page.locator(f"#storage-card-{uuid}")
    expect(card.locator(".alert--success")).to_contain_text("Saved")
    expect(card).to_contain_text("renamed-meanwhile")  # the colleague's rename is kept
    stored = next(s for s in sim.storages() if s["uuid"] == uuid)
    assert (stored["name"], stored["description"]) == ("renamed-meanwhile", "edited while it changed")


def test_the_edit_form_can_be_opened_and_submitted_with_the_keyboard_alone(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-ci-cache")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")

    edit_link = page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit")
    for _ in range(60):
        page.keyboard.press("Tab")
        if edit_link.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Edit link")
    page.keyboard.press("Enter")

    form = page.locator(f"#storage-edit-{uuid}")
    expect(form).to_be_focused()  # focus moves to the swapped-in form
    page.keyboard.press("Tab")
    expect(form.get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("ci-cache-by-keyboard")
    page.keyboard.press("Enter")  # submits the form from a text input

    card = page.locator(f"#storage-card-{uuid}")
    expect(card).to_contain_text("ci-cache-by-keyboard")
    expect(card).to_be_focused()


def test_cancelling_the_edit_brings_the_card_back_unchanged(browser_env, page):
    uuid = storage_named(browser_env["sim"], "bs-ci-cache")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)
    form.get_by_label("Name", exact=True).fill("never-saved")

    form.get_by_role("link", name="Cancel").click()

    card = page.locator(f"#storage-card-{uuid}")
    expect(card).to_be_visible()
    expect(card).not_to_contain_text("never-saved")
    expect(card).to_be_focused()  # focus is not lost with the form that held it
    assert storage_named(browser_env["sim"], "bs-ci-cache")
    # The form's hx-disabled-elt is not inherited by the Cancel link (htmx logged an error for it).
    assert page.console_errors == []


# --- card actions ----------------------------------------------------------------------------------


def test_reconnect_updates_the_card_in_place(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "上海备份存储")["uuid"]  # Disconnected
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    card = page.locator(f"#storage-card-{uuid}")
    expect(card.locator(".badges")).to_contain_text("Disconnected")
    mark_window(page)

    card.get_by_role("button", name="Reconnect").click()

    expect(card.locator(".alert--success")).to_contain_text("Reconnected.")
    expect(card.locator(".badges")).to_contain_text("Connected")
    expect(card.locator(".badges")).not_to_contain_text("Disconnected")
    expect(card).to_be_focused()
    assert_no_reload(page)


def test_disable_asks_for_confirmation_and_cancel_leaves_the_storage_enabled(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-sz-prod-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")

    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Disable…").click()
    confirm = page.locator(f"#storage-confirm-{uuid}")
    expect(confirm).to_be_focused()
    expect(confirm).to_contain_text("Disable “bs-sz-prod-01”?")
    screenshot(page, "confirm-disable")
    confirm.get_by_role("link", name="Cancel").click()

    expect(page.locator(f"#storage-card-{uuid} .badges")).to_contain_text("Enabled")
    expect(page.locator(f"#storage-card-{uuid}")).to_be_focused()
    assert storage_named(sim, "bs-sz-prod-01")["state"] == "Enabled"


def hold_requests(page: Page, pattern: str) -> list:
    """Requests matching `pattern` wait (unanswered) in the returned list until the test lets them go."""
    held: list = []
    page.route(pattern, lambda route: held.append(route))
    return held


def wait_for_held(page: Page, held: list) -> None:
    for _ in range(100):
        if held:
            return
        page.wait_for_timeout(50)  # lets Playwright deliver the route to the handler
    raise AssertionError("the request was never sent")


def release(page: Page, pattern: str, held: list) -> None:
    for route in held:
        route.continue_()
    page.unroute(pattern)


def test_a_card_refresh_answering_after_a_click_does_not_undo_the_click(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-sz-prod-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    card_url = f"**/storages/{uuid}/card/"
    held = hold_requests(page, card_url)
    page.evaluate("htmx.trigger(document.querySelector('[data-poll]'), 'storage-refresh')")
    wait_for_held(page, held)  # the refresh is on its way, not answered yet

    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Disable…").click()
    confirm = page.locator(f"#storage-confirm-{uuid}")
    expect(confirm).to_be_visible()
    with page.expect_response(re.compile(r"/card/$")):
        release(page, card_url, held)
    page.wait_for_timeout(300)  # the refresh's swap (and settle) would have run by now

    expect(confirm).to_be_visible()
    expect(page.locator(f"#storage-card-{uuid}")).to_have_count(0)
    assert page.console_errors == []


def test_a_click_answering_after_a_card_refresh_still_opens_in_the_new_card(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-sz-prod-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    confirm_url = f"**/storages/{uuid}/disable/"
    held = hold_requests(page, confirm_url)
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Disable…").click()
    wait_for_held(page, held)

    with page.expect_response(re.compile(r"/card/$")):
        page.evaluate("htmx.trigger(document.querySelector('[data-poll]'), 'storage-refresh')")
    release(page, confirm_url, held)

    confirm = page.locator(f"#storage-confirm-{uuid}")
    expect(confirm).to_be_visible()
    expect(confirm).to_be_focused()
    expect(page.locator(f"#storage-card-{uuid}")).to_have_count(0)
    assert page.console_errors == []


def test_disabling_after_confirmation_shows_the_disabled_state_and_offers_enable(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-sz-prod-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    mark_window(page)

    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Disable…").click()
    page.locator(f"#storage-confirm-{uuid}").get_by_role("button", name="Disable").click()

    card = page.locator(f"#storage-card-{uuid}")
    expect(card.locator(".alert--success")).to_contain_text("Disabled.")
    expect(card.locator(".badges")).to_contain_text("Disabled")
    assert storage_named(sim, "bs-sz-prod-01")["state"] == "Disabled"
    assert_no_reload(page)

    card.get_by_role("button", name="Enable").click()
    expect(card.locator(".alert--success")).to_contain_text("Enabled.")
    assert storage_named(sim, "bs-sz-prod-01")["state"] == "Enabled"


def test_every_htmx_request_shows_a_loading_indicator(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-ci-cache")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    sim.set_faults(latency_ms=150)  # every ZStack call is slow: the indicator is seen

    page.get_by_label("State").select_option("Enabled")
    expect(busy_indicator(page)).to_be_visible()
    expect(busy_indicator(page)).to_have_count(0)

    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    expect(busy_indicator(page)).to_be_visible()
    form = page.locator(f"#storage-edit-{uuid}")
    expect(form).to_be_visible()
    expect(busy_indicator(page)).to_have_count(0)

    form.get_by_label("Name", exact=True).fill("slow-save")
    form.get_by_role("button", name="Save").click()
    expect(busy_indicator(page)).to_be_visible()
    expect(form.get_by_role("button", name="Save")).to_be_disabled()  # no double submit
    expect(page.locator(f"#storage-card-{uuid}")).to_contain_text("slow-save", timeout=15_000)

    page.locator(f"#storage-card-{uuid}").get_by_role("button", name="Reconnect").click()
    expect(busy_indicator(page)).to_be_visible()
    expect(page.locator(f"#storage-card-{uuid} .alert--success")).to_contain_text("Reconnected.", timeout=15_000)


# --- a write that outlasts the web request ---------------------------------------------------------


def test_a_slow_save_shows_progress_then_swaps_in_the_result_without_a_reload(browser_env, page, settings):
    """The request waits only CONSOLE_WRITE_WAIT; the card says the save runs, asks the console (not ZStack)
    how it stands, and swaps in the result once the worker has recorded it."""
    from dashboard.storages import follow
    from dashboard.storages.models import Submission

    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    settings.CONSOLE_WRITE_WAIT = 0.2
    sim.set_faults(job_seconds=1.5)
    login(page, browser_env["url"], Role.ADMIN)
    form = open_edit_form(page, browser_env["url"], uuid)
    form.get_by_label("Description").fill("saved in the background")
    mark_window(page)

    form.get_by_role("button", name="Save").click()

    card = page.locator(f"#storage-card-{uuid}")
    expect(card.locator(".write-progress")).to_contain_text("Saving changes…")
    expect(card.locator(".write-progress")).to_contain_text("job")
    screenshot(page, "card-write-in-progress", full_page=False)
    follow.follow(Submission.objects.get().pk, seconds=None)  # the worker's part, here in the test

    expect(card.locator(".alert--success")).to_contain_text("Saved.", timeout=10_000)
    expect(card.locator(".write-progress")).to_have_count(0)
    expect(card).to_contain_text("saved in the background")
    expect(page.locator("#live-region")).to_contain_text("Saved.")
    assert_no_reload(page)
