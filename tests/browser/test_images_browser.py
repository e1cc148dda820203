"""Issue 12 in a real browser: an admin reclaims space from the detail page (confirmation, the card showing the
bytes freed), and the images section pages and sorts in place."""

import re

import pytest
from playwright.sync_api import expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import axe_violations, login, screenshot

pytestmark = pytest.mark.browser
FREED = 1_288_490_189  # 1.2 GiB


def test_an_admin_reclaims_space_after_confirming_and_the_card_shows_the_bytes_freed(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    sim.set_reclaimable(uuid, FREED)
    available = storage_named(sim, "bs-prod-bj-01")["availableCapacity"]
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    page.evaluate("window.__marker = 1")

    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Reclaim space…").click()
    confirm = page.locator(f"#storage-confirm-{uuid}")
    expect(confirm).to_be_focused()
    expect(confirm).to_contain_text("Reclaim space on “bs-prod-bj-01”?")
    assert storage_named(sim, "bs-prod-bj-01")["availableCapacity"] == available  # nothing sent yet
    screenshot(page, "confirm-reclaim")
    assert axe_violations(page) == []
    confirm.get_by_role("button", name="Reclaim space").click()

    card = page.locator(f"#storage-card-{uuid}")
    expect(card.locator(".alert--success")).to_contain_text("Freed 1.2 GiB.")
    expect(card).to_be_focused()
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped in place"
    assert axe_violations(page) == []
    assert storage_named(sim, "bs-prod-bj-01")["availableCapacity"] == available + FREED
    reclaims = [r for r in sim.requests() if r["method"] == "PUT" and r["body"] == {"reclaimSpaceFromImageStore": {}}]
    assert len(reclaims) == 1


def test_the_images_section_pages_and_sorts_in_place(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.VIEWER)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")
    page.evaluate("window.__marker = 1")
    section = page.locator("#storage-images")
    expect(section).to_contain_text("23 images")
    expect(section).to_contain_text("Page 1 of 3")
    screenshot(page, "detail-images")
    assert axe_violations(page) == []

    section.get_by_role("link", name="Next").click()
    expect(section).to_contain_text("Page 2 of 3")
    expect(section).to_contain_text("showing 11–20")

    section.get_by_role("link", name="Virtual size").click()  # largest virtual size first, from page 1
    expect(section.locator("th[aria-sort='descending']")).to_contain_text("Virtual size")
    expect(section).to_contain_text("Page 1 of 3")
    largest = max(i["size"] for i in sim.images() if uuid in [r["backupStorageUuid"] for r in i["backupStorageRefs"]])
    assert f"{largest:,} bytes" in section.locator("tbody tr").first.inner_html()
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped in place"
    assert axe_violations(page) == []


@pytest.fixture
def nojs(page_factory):
    return page_factory(java_script=False)


def test_without_javascript_reclaim_asks_on_its_own_page_and_images_page_with_plain_links(browser_env, nojs):
    page, sim = nojs, browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    sim.set_reclaimable(uuid, FREED)
    login(page, browser_env["url"], Role.ADMIN)
    page.goto(f"{browser_env['url']}/storages/{uuid}/")

    page.locator("#storage-images").get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/images/\?page=2&sort=-actualSize#storage-images$"))
    expect(page.locator("#storage-images")).to_contain_text("showing 11–20")

    page.locator(f"#storage-card-{uuid}").get_by_role("link", name="Reclaim space…").click()
    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/reclaim/$"))
    page.get_by_role("button", name="Reclaim space").click()
    expect(page).to_have_url(re.compile(rf"/storages/{uuid}/$"))
    expect(page.locator(".messages")).to_contain_text("Freed 1.2 GiB.")
