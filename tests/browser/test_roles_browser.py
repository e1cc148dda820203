"""What each role sees in a real browser: a viewer gets capacity and status only, an auditor reads the
audit trail an administrator's edit left behind, filters it and downloads it."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import login, screenshot

pytestmark = pytest.mark.browser

SECRETS_OF_BS_PROD_BJ_01 = ("192.0.2.11", "priority::high", "owner::storage-team", "SSH user name", "SSH port")


def test_a_viewer_sees_capacity_and_status_but_no_edit_controls_or_credentials(browser_env, page):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    bodies: list[str] = []
    page.on(
        "response",
        lambda r: (
            bodies.append(r.text())
            if "text/html" in r.headers.get("content-type", "") and not 300 <= r.status < 400  # a redirect has no body
            else None
        ),
    )
    login(page, browser_env["url"], Role.VIEWER)
    expect(page.locator("#storage-table tbody tr")).to_have_count(12)
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)

    page.get_by_role("link", name="bs-prod-bj-01").click()
    card = page.locator(f"#storage-card-{uuid}")
    stats = card.locator(".stats")
    for figure in ("100.0 TiB", "62.0 TiB", "38.0 TiB", "62.0%"):  # total, used, available, used %
        expect(stats).to_contain_text(figure)
    expect(card.get_by_role("meter", name="Capacity used")).to_have_attribute("value", "62.0")
    expect(card.locator(".badges")).to_contain_text("Connected")
    for control in ("Edit", "Reconnect", "Disable…", "Enable"):
        expect(card.get_by_role("link", name=control, exact=True)).to_have_count(0)
        expect(card.get_by_role("button", name=control, exact=True)).to_have_count(0)
    page.evaluate("htmx.trigger(document.querySelector('[data-poll]'), 'storage-refresh')")  # the fragment too
    expect(card).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert len(bodies) >= 3
    for body in bodies:
        for secret in SECRETS_OF_BS_PROD_BJ_01:
            assert secret not in body
    screenshot(page, "detail-viewer")


def test_a_viewer_who_types_the_edit_address_gets_the_not_allowed_page(browser_env, page):
    uuid = storage_named(browser_env["sim"], "bs-prod-bj-01")["uuid"]
    login(page, browser_env["url"], Role.VIEWER)

    response = page.goto(f"{browser_env['url']}/storages/{uuid}/edit/")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("main")).not_to_contain_text("192.0.2.11")
    page.get_by_role("link", name="Back to the storage list").click()
    expect(page).to_have_url(re.compile(r"/storages/$"))


def test_an_auditor_reads_filters_and_exports_the_trail_of_an_administrators_edit(browser_env, page_factory):
    sim = browser_env["sim"]
    uuid = storage_named(sim, "bs-dev-shared")["uuid"]
    admin = page_factory()
    login(admin, browser_env["url"], Role.ADMIN, username="alice")
    admin.goto(f"{browser_env['url']}/storages/{uuid}/edit/")
    admin.get_by_label("Name", exact=True).fill("bs-dev-renamed")
    admin.get_by_label("SSH password").fill("Canary-Pw-7731")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator(f"#storage-card-{uuid} .alert--success")).to_contain_text("Saved")
    admin.locator(f"#storage-card-{uuid}").get_by_role("button", name="Reconnect").click()
    expect(admin.locator(f"#storage-card-{uuid} .alert--success")).to_contain_text("Reconnected.")

    auditor = page_factory()
    login(auditor, browser_env["url"], Role.AUDITOR)
    auditor.get_by_role("link", name="Audit log").click()
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Audit log")
    rows = auditor.locator("#audit-results tbody tr")
    # Newest first, one entry per submission: the auditor's login, the reconnect and the edit (each attempt
    # with its outcome), alice's login (both logged in by the form).
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Log in")
    expect(rows.nth(1)).to_contain_text("alice")
    expect(rows.last).to_contain_text("alice")
    expect(auditor.locator("#audit-results")).to_contain_text("bs-dev-renamed")
    expect(auditor.locator("#audit-results")).to_contain_text("changed (the value is never recorded)")
    expect(auditor.locator("#audit-results")).not_to_contain_text("Canary-Pw-7731")
    # an auditor cannot edit
    auditor.goto(f"{browser_env['url']}/storages/{uuid}/")
    expect(auditor.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    auditor.go_back()

    auditor.get_by_label("Action").select_option(label="Update")
    auditor.get_by_label("Outcome").select_option(label="Succeeded")
    auditor.get_by_role("button", name="Apply").click()
    expect(auditor).to_have_url(re.compile(r"action=storage.update.*outcome=succeeded"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Succeeded")

    with auditor.expect_download() as download_info:
        auditor.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    exported = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert len(exported) == 1  # the same filters as the page
    row = exported[0]
    assert (row["actor"], row["action"], row["storage_uuid"], row["outcome"]) == (
        "alice",
        "storage.update",
        uuid,
        "succeeded",
    )
    assert "bs-dev-renamed" in row["changes"]
    assert "Canary-Pw-7731" not in open(download.path(), encoding="utf-8-sig").read()
