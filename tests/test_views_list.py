"""The storage list: /storages/ (issue 3, "List")."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from dashboard.accounts.roles import Role
from tests.storage_helpers import HTMX, storage_named, zstack_requests

pytestmark = pytest.mark.django_db


def _queries(sim, path: str) -> list[dict]:
    return [r for r in zstack_requests(sim, "GET") if r["path"] == f"/zstack/v1{path}"]


def _params(request: dict) -> list[tuple[str, str]]:
    return parse_qsl(request["query"], keep_blank_values=True)


def test_anonymous_user_is_redirected_to_the_login_page(client, zstack_settings):
    response = client.get("/storages/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/storages/")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER, Role.AUDITOR])
def test_every_role_sees_the_list_with_total_count_and_zone_names(login_as, zstack_settings, role):
    response = login_as(role).get("/storages/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "12 backup storages" in html
    assert "bs-prod-bj-01" in html
    assert "zone-beijing-01" in html  # zones by name, not uuid
    assert 'class="badge badge--ok"' in html and ">Connected<" in html  # badge with text, never colour alone
    assert "<meter" in html


def test_user_without_a_role_gets_403(login_as, zstack_settings):
    response = login_as(None).get("/storages/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


@pytest.mark.parametrize("page_size", [10, 25, 100])
def test_one_page_makes_exactly_one_storage_query_and_one_zone_query_whatever_the_page_size(
    login_as, zstack_settings, page_size
):
    client = login_as(Role.VIEWER)
    zstack_settings.reset(storages=250)
    zstack_settings.clear_requests()
    response = client.get("/storages/", {"page_size": page_size, "page": 2}, follow=True)  # 25: the default, dropped
    assert response.status_code == 200
    storage_queries = _queries(zstack_settings, "/backup-storage/image-store")
    zone_queries = _queries(zstack_settings, "/zones")
    assert len(storage_queries) == 1 and len(zone_queries) == 1
    assert len(zstack_requests(zstack_settings)) == 2  # nothing else: no per-row calls
    params = dict(_params(storage_queries[0]))
    assert params["limit"] == str(page_size)
    assert params["start"] == str(page_size)
    assert params["replyWithCount"] == "true"
    assert response.content.decode().count('class="storage-link"') == page_size


def test_filters_and_sort_become_zstack_query_conditions(login_as, zstack_settings):
    client = login_as(Role.ADMIN)
    zone_uuid = next(z["uuid"] for z in zstack_settings.zones() if z["name"] == "zone-beijing-01")
    zstack_settings.clear_requests()
    response = client.get(
        "/storages/",
        {"q": "bs-prod", "state": "Enabled", "status": "Connected", "zone": zone_uuid, "sort": "-availableCapacity"},
    )
    assert response.status_code == 200
    params = _params(_queries(zstack_settings, "/backup-storage/image-store")[0])
    conditions = sorted(v for k, v in params if k == "q")
    assert conditions == sorted(
        ["name~=%bs-prod%", "state=Enabled", "status=Connected", f"attachedZoneUuids={zone_uuid}"]
    )
    assert dict(params)["sort"] == "-availableCapacity"
    html = response.content.decode()
    assert "2 backup storages" in html
    assert "bs-prod-bj-01" in html and "bs-prod-bj-02" in html and "bs-sh-archive" not in html


def test_search_by_full_uuid_finds_that_storage(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    uuid = storage_named(zstack_settings, "bs-sh-archive")["uuid"]
    response = client.get("/storages/", {"q": uuid})
    html = response.content.decode()
    assert "1 backup storage" in html and "bs-sh-archive" in html


def test_ascending_sort_is_sent_with_a_plus_sign_and_orders_the_rows(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    html = client.get("/storages/", {"sort": "name", "q": "bs-"}, follow=True).content.decode()
    assert dict(_params(_queries(zstack_settings, "/backup-storage/image-store")[0]))["sort"] == "+name"
    assert html.index("bs-ci-cache") < html.index("bs-dev-shared") < html.index("bs-sz-prod-01")


def test_pagination_links_keep_the_filters_and_htmx_targets_the_table(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.reset(storages=40)
    html = client.get("/storages/", {"page_size": 10, "state": "Enabled"}).content.decode()
    assert "Page 1 of " in html
    assert 'href="/storages/?page_size=10&amp;state=Enabled&amp;page=2"' in html
    assert 'hx-get="/storages/?page_size=10&amp;state=Enabled&amp;page=2"' in html
    assert 'hx-push-url="true"' in html


def test_htmx_request_gets_only_the_table_fragment(login_as, zstack_settings):
    response = login_as(Role.VIEWER).get("/storages/", {"q": "bs"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="storage-table"')
    assert "<html" not in html and "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_filter_form_works_without_javascript_as_a_plain_get_form(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/").content.decode()
    assert '<form method="get" action="/storages/"' in html
    for name in ("q", "state", "status", "zone", "sort", "page_size"):
        assert f'name="{name}"' in html
    assert 'hx-target="#storage-table"' in html


def test_no_matches_gives_a_clear_message(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/", {"q": "no-such-storage"}).content.decode()
    assert "No backup storage matches these filters." in html


def test_zstack_unreachable_gives_a_clear_message_never_a_500(login_as, settings, db):
    settings.ZSTACK_URL = "http://127.0.0.1:9"  # loopback, nothing listens: connection refused
    client = login_as(Role.VIEWER)
    response = client.get("/storages/")
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    htmx_response = client.get("/storages/", **HTMX)
    assert htmx_response.status_code == 200  # htmx swaps only 2xx: the message must arrive
    assert "could not be reached" in htmx_response.content.decode()


def test_invalid_filter_values_fall_back_to_defaults(login_as, zstack_settings):
    response = login_as(Role.VIEWER).get(
        "/storages/", {"page": "x", "sort": "hostname", "page_size": "7", "state": "Broken"}
    )
    assert response.status_code == 200
    assert "12 backup storages" in response.content.decode()


def test_a_search_holding_a_query_operator_is_refused_with_a_message(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/", {"q": "a!=b"}).content.decode()
    assert "The search cannot contain" in html
    assert 'aria-describedby="id_q_helptext id_q_error"' in html


def test_the_search_box_says_that_percent_and_underscore_are_wildcards(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/").content.decode()
    assert 'aria-describedby="id_q_helptext"' in html
    help_text = html[html.index('id="id_q_helptext"') :]
    assert "“%” matches any characters and “_” any one character" in help_text[:300]


def test_a_search_is_sent_as_one_like_condition_with_the_text_as_typed(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    client.get("/storages/", {"q": "bs_prod a~=b"})
    [query] = zstack_requests(zstack_settings, "GET", "/backup-storage/image-store")
    assert query["query"].startswith("q=name~=%25bs_prod%20a~=b%25&")  # one condition: the first ~= wins


def test_viewer_list_never_contains_hostnames_usernames_or_ports(login_as, zstack_settings):
    zstack_settings.patch_storage(
        storage_named(zstack_settings, "bs-prod-bj-01")["uuid"],
        hostname="canary-host.example.com",
        username="canaryuser",
        sshPort=54321,
    )
    for response in (login_as(Role.VIEWER).get("/storages/"), login_as(Role.VIEWER, "v2").get("/storages/", **HTMX)):
        html = response.content.decode()
        assert "canary-host" not in html and "canaryuser" not in html and "54321" not in html


def test_post_to_the_list_is_not_allowed(login_as, zstack_settings):
    assert login_as(Role.ADMIN).post("/storages/").status_code == 405


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"state": "Enabled", "status": "Connected", "capacity": "warning", "sort": "-name", "page_size": "100"},
        {"sort": "-usedCapacity", "page_size": "7", "state": "Nope"},  # invalid: the list uses its defaults
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_filter_selects_offer_and_select_what_djangos_widgets_would(zstack_settings, query, language):
    """The list prints presenters.filter_selects instead of rendering Django's Select widgets (a template per
    option): the same names, ids, labels, options and selected option as the widgets, in both languages."""
    import re

    from django.http import QueryDict
    from django.utils import translation

    from dashboard.storages import presenters, selectors
    from dashboard.storages.forms import StorageFilterForm

    zone = selectors.storage_list().zones[0]
    data = QueryDict(mutable=True)
    data.update({**query, "zone": zone.uuid})
    with translation.override(language):
        form = StorageFilterForm(data)
        form.filters()
        shown = {select.name: select for select in presenters.filter_selects(form, selectors.storage_list().zones)}
        assert list(shown) == ["state", "status", "zone", "capacity", "sort", "page_size"]
        for name in ("state", "status", "capacity", "sort", "page_size"):
            widget = str(form[name])
            options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', widget)
            assert [(o.value, o.label, o.selected) for o in shown[name].options] == [
                (value, label, bool(selected)) for value, selected, label in options
            ]
            assert (shown[name].id, shown[name].label) == (f"id_{name}", str(form[name].label))
        zones = shown["zone"].options
        assert zones[0].value == "" and [o.value for o in zones[1:]] == [z.uuid for z in selectors.storage_list().zones]
        assert [o.value for o in zones if o.selected] == [zone.uuid]
