"""axe-core on every page and the states that matter (errors, swaps, empty results), in light and dark
mode and in Chinese: no serious or critical violations, AA contrast included. Plus the checks axe
cannot make: labels are visible, errors are tied to their fields, updates are announced."""

import json

import pytest
from playwright.sync_api import Page, expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import PHONE, axe_violations, login, screenshot

pytestmark = pytest.mark.browser


class AxeAudit:
    """Runs axe on each named state and reports every failing state at once."""

    def __init__(self, page: Page, scheme: str):
        self.page, self.scheme, self.failures, self.checked = page, scheme, {}, []

    def check(self, state: str) -> None:
        self.page.wait_for_load_state()
        violations = axe_violations(self.page)
        self.checked.append(state)
        if violations:
            self.failures[state] = [
                {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:4]]}
                for v in violations
            ]

    def assert_clean(self) -> None:
        assert not self.failures, f"axe violations ({self.scheme}):\n" + json.dumps(
            self.failures, indent=2, ensure_ascii=False
        )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_and_state_has_no_serious_axe_violations(browser_env, page_factory, scheme):
    sim, url = browser_env["sim"], browser_env["url"]
    page = page_factory(color_scheme=scheme)
    axe = AxeAudit(page, scheme)
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]

    page.goto(url + "/accounts/login/")
    axe.check("login")
    page.get_by_label("User name").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("login with an error")

    login(page, url, Role.ADMIN)
    expect(page.locator("#storage-table tbody tr")).to_have_count(12)
    axe.check("storage list")
    page.get_by_label("Search by name or UUID").fill("nothing-matches-this")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".empty-state")).to_be_visible()
    axe.check("empty list")

    page.goto(f"{url}/storages/{uuid}/")
    axe.check("detail and card")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Edit").click()
    expect(page.locator(f"#storage-edit-{uuid}")).to_be_visible()
    axe.check("edit form (swapped in)")
    page.get_by_label("SSH port").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("SSH port")).to_have_attribute("aria-invalid", "true")
    axe.check("edit form with errors")
    page.get_by_label("SSH port").fill("22")
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "agent down"}])
    page.get_by_label("Description", exact=True).fill("changed")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(f"#storage-edit-{uuid}-error")).to_be_visible()
    axe.check("edit form with an upstream error")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(f"#storage-card-{uuid} .alert--success")).to_be_visible()
    axe.check("card after the swap")
    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Disable…").click()
    expect(page.locator(f"#storage-confirm-{uuid}")).to_be_visible()
    axe.check("disable confirmation")

    page.goto(f"{url}/storages/{uuid}/edit/")
    sim.patch_storage(uuid, name="changed-elsewhere")
    page.get_by_label("Name", exact=True).fill("mine")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(f"#storage-edit-{uuid}-stale")).to_be_visible()
    axe.check("stale form")

    page.goto(f"{url}/storages/{'0' * 32}/")
    axe.check("404 page")
    page.goto(f"{url}/audit/")
    axe.check("audit log")

    login(page, url, Role.VIEWER)
    page.goto(f"{url}/storages/{uuid}/edit/")
    axe.check("403 page")

    sim.set_faults(fail_next=[{"match": "GET", "status": 503, "code": "SYS.1000", "details": "down"}] * 3)
    page.goto(f"{url}/storages/")
    expect(page.locator("#storage-table [role=alert]")).to_be_visible()
    axe.check("list when ZStack fails")

    page.close()
    phone = page_factory(color_scheme=scheme, viewport=PHONE)
    login(phone, url, Role.ADMIN)
    axe.page = phone
    axe.check("storage list on a phone")
    phone.goto(f"{url}/storages/{uuid}/")
    axe.check("card on a phone")
    screenshot(phone, f"detail-phone-{scheme}")

    axe.assert_clean()
    assert len(axe.checked) == 17


def test_the_chinese_interface_has_no_serious_axe_violations(browser_env, page_factory):
    page = page_factory(locale="zh-CN")
    axe = AxeAudit(page, "zh-CN")
    uuid = storage_named(browser_env["sim"], "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    axe.check("list")
    page.goto(f"{browser_env['url']}/storages/{uuid}/edit/")
    axe.check("edit form")
    axe.assert_clean()


def test_every_form_control_has_a_visible_label(browser_env, page):
    uuid = storage_named(browser_env["sim"], "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    for path in ("/storages/", f"/storages/{uuid}/edit/", "/audit/"):
        page.goto(browser_env["url"] + path)
        controls = page.locator("main input:not([type=hidden]), main select, main textarea")
        assert controls.count() > 2, path
        for control in controls.all():
            control_id = control.get_attribute("id")
            label = page.locator(f"label[for='{control_id}']")
            expect(label, f"{path} #{control_id}").to_be_visible()
            assert label.inner_text().strip(), f"{path} #{control_id} has an empty label"


def test_status_is_written_out_not_shown_by_colour_alone(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    badges = page.locator("#storage-table .badge")
    expect(badges.first).to_be_visible()
    texts = {t.strip() for t in badges.all_inner_texts()}
    assert {"Enabled", "Disabled", "Connected", "Disconnected"} <= {t.lstrip("●○◌✕ ") for t in texts}
    # capacity: the meter's value is repeated as text next to it
    row = page.locator("#storage-table tbody tr", has_text="bs-prod-bj-01")
    expect(row.locator(".capacity__text")).to_contain_text("62.0%")


def test_a_swap_announces_its_result_in_a_live_region(browser_env, page):
    uuid = storage_named(browser_env["sim"], "bs-sz-prod-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    region = page.locator("#live-region")
    expect(region).to_have_attribute("aria-live", "polite")
    page.goto(f"{browser_env['url']}/storages/{uuid}/")

    page.locator(f"#storage-card-{uuid}").get_by_role("button", name="Reconnect").click()

    expect(region).to_contain_text("Reconnected.")
    expect(page.locator(f"#storage-card-{uuid}")).to_be_focused()


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_main_content(browser_env, page):
    login(page, browser_env["url"], Role.ADMIN)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def tab_to(page: Page, locator, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {locator}")


def test_reconnect_and_a_confirmed_disable_work_with_the_keyboard_alone(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-sz-prod-01")["uuid"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    card = page.locator(f"#storage-card-{uuid}")

    tab_to(page, card.get_by_role("button", name="Reconnect"))
    page.keyboard.press("Enter")
    expect(card.locator(".alert--success")).to_contain_text("Reconnected.")
    expect(card).to_be_focused()

    tab_to(page, card.get_by_role("link", name="Disable…"))
    page.keyboard.press("Enter")
    confirm = page.locator(f"#storage-confirm-{uuid}")
    expect(confirm).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Disable")).to_be_focused()
    page.keyboard.press("Space")

    expect(card.locator(".badges")).to_contain_text("Disabled")
    expect(card).to_be_focused()
    assert storage_named(sim, "bs-sz-prod-01")["state"] == "Disabled"
