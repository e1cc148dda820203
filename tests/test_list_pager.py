"""The list's pager and clean, shareable URLs (issue 13): first, previous, numbers around the current page,
next, last, without JavaScript; no empty parameter or default in any link, pushed URL or form result."""

from __future__ import annotations

import re

import pytest
from django.http import QueryDict

from dashboard.accounts.roles import Role
from dashboard.storages.presenters import clean_query
from dashboard.storages.selectors import StorageListPage
from tests.storage_helpers import HTMX

pytestmark = pytest.mark.django_db


def _page(page: int, total: int, size: int = 25) -> StorageListPage:
    return StorageListPage(rows=(), total=total, page=page, page_size=size, zones=())


@pytest.mark.parametrize(
    ("page", "total", "window"),
    [
        (1, 25, (1,)),
        (1, 26, (1, 2)),
        (3, 125, (1, 2, 3, 4, 5)),
        (1, 10_000, (1, 2, 3, None, 400)),
        (5, 10_000, (1, 2, 3, 4, 5, 6, 7, None, 400)),  # 2 next to 1 and 3: a number, not "…"
        (200, 10_000, (1, None, 198, 199, 200, 201, 202, None, 400)),
        (400, 10_000, (1, None, 398, 399, 400)),
    ],
)
def test_the_pager_shows_first_last_and_two_pages_either_side(page, total, window):
    assert _page(page, total).page_window() == window


def test_clean_query_drops_empty_values_and_defaults_and_keeps_the_order():
    params = QueryDict("q=web&state=&status=Connected&zone=&sort=name&page_size=25&page=1")
    assert clean_query(params) == "?q=web&status=Connected"
    assert clean_query(params, page=3) == "?q=web&status=Connected&page=3"
    assert clean_query(params, q=None) == "?status=Connected"
    assert clean_query(QueryDict("state=&page=1")) == ""


def test_a_plain_get_form_with_empty_fields_redirects_to_the_clean_url(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    response = client.get("/storages/?q=bs-prod&state=&status=&zone=&sort=name&page_size=25")
    assert response.status_code == 302
    assert response["Location"] == "/storages/?q=bs-prod"
    assert client.get(response["Location"]).status_code == 200  # and the clean URL is served, no loop


def test_htmx_pushes_the_clean_url_not_the_empty_fields(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    response = client.get("/storages/?q=bs-&state=Enabled&status=&zone=&sort=name&page_size=25", **HTMX)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/storages/?q=bs-&state=Enabled"
    clean = client.get("/storages/?q=bs-&state=Enabled", **HTMX)
    assert "HX-Push-Url" not in clean  # the pushed URL is already the request's


def test_pager_links_are_clean_and_mark_the_current_page(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.reset(storages=260)
    html = client.get("/storages/?page_size=10&page=5").content.decode()
    nav = html[html.index('<nav class="pagination"') : html.index("</nav>", html.index('<nav class="pagination"'))]
    links = re.findall(r'href="([^"]+)"', nav)
    assert links, nav
    for link in links:
        assert "=&" not in link and not link.endswith("=") and "page=1&" not in link
    assert 'href="/storages/?page_size=10"' in nav  # the first page: no page=1
    assert 'href="/storages/?page_size=10&amp;page=4"' in nav and 'rel="prev"' in nav
    assert 'href="/storages/?page_size=10&amp;page=26"' in nav  # the last page
    assert re.search(r'aria-current="page"><span class="visually-hidden">Page </span>5</a>', nav)
    assert nav.count('aria-current="page"') == 1
    assert "…" in nav and 'aria-label="Pages"' in nav
    assert "page=1" not in html.split('<nav class="pagination"')[0]  # nor anywhere before the pager


def test_the_first_page_has_no_link_back_and_the_last_none_forward(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.reset(storages=30)
    first = client.get("/storages/?page_size=10").content.decode()
    assert 'aria-disabled="true">First<' in first and 'aria-disabled="true">Previous<' in first
    assert 'rel="next"' in first
    last = client.get("/storages/?page_size=10&page=3").content.decode()
    assert 'aria-disabled="true">Next<' in last and 'aria-disabled="true">Last<' in last


def test_a_single_page_has_no_pager(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/").content.decode()
    assert '<nav class="pagination"' not in html


def test_numeric_columns_are_right_aligned_and_the_uuid_is_shortened_but_whole(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/").content.decode()
    assert '<th scope="col" class="num">Capacity used</th>' in html
    assert '<th scope="col" class="num">Available</th>' in html
    uuid = zstack_settings.storages()[0]["uuid"]
    assert f'<span class="uuid uuid--short muted" title="{uuid}">{uuid}</span>' in html  # copyable: all of it
