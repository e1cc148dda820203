"""/capacity/ and the detail page's capacity chart in a real browser (issue 12): no serious axe violations in
light and dark mode and in Chinese, and the chart obeys the strict CSP (no violation reported)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.accounts.roles import Role
from dashboard.capacity import services
from dashboard.capacity.models import CapacitySnapshot

from .conftest import assert_no_axe_violations, login

pytestmark = pytest.mark.browser


def _history(sim) -> str:
    """Ten days of growth for the nearly full storage, then a real snapshot; returns its uuid."""
    full = next(s for s in sim.storages() if s["name"] == "测试环境镜像库")
    now, total = timezone.now(), full["totalCapacity"]
    CapacitySnapshot.objects.bulk_create(
        CapacitySnapshot(
            storage_uuid=full["uuid"],
            storage_name=full["name"],
            taken_at=now - timedelta(days=d),
            used_bytes=int(total * (0.96 - 0.004 * d)),
            total_bytes=total,
        )
        for d in range(1, 11)
    )
    services.take_snapshot(now=now)
    return full["uuid"]


@pytest.mark.parametrize(("scheme", "locale"), [("light", "en-US"), ("dark", "en-US"), ("light", "zh-CN")])
def test_capacity_pages_have_no_serious_axe_violations(browser_env, page_factory, scheme, locale):
    sim, url = browser_env["sim"], browser_env["url"]
    page = page_factory(color_scheme=scheme, locale=locale)
    login(page, url, Role.VIEWER)
    page.goto(url + "/capacity/")  # before any snapshot: one live read
    expect(page.locator("#capacity-fullest tbody tr")).to_have_count(10)
    assert_no_axe_violations(page)
    uuid = _history(sim)
    page.goto(url + "/capacity/")
    expect(page.locator("#capacity-soonest tbody tr a")).to_have_count(1)
    assert_no_axe_violations(page)
    page.goto(f"{url}/storages/{uuid}/")
    expect(page.locator("svg.capacity-chart")).to_be_visible()
    assert_no_axe_violations(page)


def test_the_chart_obeys_the_strict_csp(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    page = page_factory(bypass_csp=False)
    login(page, url, Role.VIEWER)
    uuid = _history(sim)
    page.goto(f"{url}/storages/{uuid}/")
    expect(page.locator("svg.capacity-chart polyline")).to_be_visible()
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
