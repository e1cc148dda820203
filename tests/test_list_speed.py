"""Issue 14's targets that a test can hold without a stopwatch (docs/performance.md): upstream calls per page,
reads really in flight at once (the simulator records when each call started and ended), one ZStack login
per instance, database queries per request, the card's size. Timings themselves are `make bench`'s."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from dashboard.accounts.roles import Role
from dashboard.storages import presenters, selectors, zstack_client
from dashboard.storages.templatetags.storage_tags import binary_size, exact_bytes
from dashboard.storages.zstack_client import client_from_settings, get_client, read_soon
from tests.storage_helpers import HTMX, storage_named, zstack_requests

pytestmark = pytest.mark.django_db


def _logins(sim) -> int:
    return sum(1 for r in sim.requests() if r["path"].endswith("/accounts/login"))


def _all_in_flight_together(requests: list[dict]) -> bool:
    """Every call started before any of them ended: they ran at the same time."""
    return max(r["started"] for r in requests) < min(r["ended"] for r in requests)


# --- upstream calls ------------------------------------------------------------------------------


def test_the_card_makes_four_reads_and_they_are_in_flight_at_the_same_time(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    client.get("/storages/")  # logged in to ZStack already
    zstack_settings.set_faults(latency_ms=150)  # long enough that calls made one after another cannot overlap
    zstack_settings.clear_requests()
    assert client.get(f"/storages/{uuid}/card/", **HTMX).status_code == 200
    reads = zstack_requests(zstack_settings, "GET")
    assert sorted(r["path"] for r in reads) == sorted(
        [
            f"/zstack/v1/backup-storage/image-store/{uuid}",
            "/zstack/v1/zones",
            "/zstack/v1/system-tags",
            "/zstack/v1/user-tags",
        ]
    )
    assert _all_in_flight_together(reads)


def test_the_detail_page_reads_its_images_beside_the_card(login_as, zstack_settings, uuid):
    client = login_as(Role.VIEWER)
    client.get("/storages/")  # logged in to ZStack already
    zstack_settings.set_faults(latency_ms=150)
    zstack_settings.clear_requests()
    assert client.get(f"/storages/{uuid}/").status_code == 200
    reads = zstack_requests(zstack_settings, "GET")
    storage = next(r for r in reads if r["path"] == f"/zstack/v1/backup-storage/image-store/{uuid}")
    images = next(r for r in reads if r["path"] == "/zstack/v1/images")
    assert _all_in_flight_together([storage, images])


def test_the_list_makes_two_reads_at_the_same_time(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    client.get("/storages/")
    zstack_settings.set_faults(latency_ms=150)
    zstack_settings.clear_requests()
    assert client.get("/storages/", {"page_size": 100}).status_code == 200
    reads = zstack_requests(zstack_settings, "GET")
    assert sorted(r["path"] for r in reads) == ["/zstack/v1/backup-storage/image-store", "/zstack/v1/zones"]
    assert _all_in_flight_together(reads)


def test_a_viewer_card_reads_no_tags(login_as, zstack_settings, uuid):
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    client.get(f"/storages/{uuid}/card/", **HTMX)
    assert not zstack_requests(zstack_settings, path_contains="tags")


def test_one_failed_read_fails_the_card_after_the_others_ended(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    client.get("/storages/")
    zstack_settings.set_faults(fail_next=[{"match": "GET /zstack/v1/user-tags", "status": 503, "code": "SYS.1006"}])
    response = client.get(f"/storages/{uuid}/card/", **HTMX)
    assert response.status_code == 200  # the card shows the error and retries by itself
    assert "This card retries by itself." in response.content.decode()


def test_read_soon_returns_once_every_read_has_started(monkeypatch):
    """A page's reads are on their way before its thread goes on to its own queries (docs/performance.md)."""
    monkeypatch.setattr(zstack_client, "READS_START_WAIT", 5.0)  # a loaded test machine may start threads late
    begun: list[int] = []

    def read(number: int):
        def run() -> int:
            begun.append(number)
            time.sleep(0.05)  # in flight
            return number

        return run

    read_soon(*(read(n) for n in range(4)))()  # the pool's threads exist and wait for work, as in a running site
    begun.clear()
    waiting = read_soon(*(read(n) for n in range(4)))
    assert sorted(begun) == [0, 1, 2, 3]  # looked at the moment read_soon returned, not later
    assert waiting() == [0, 1, 2, 3]


def test_reads_queued_behind_a_busy_pool_do_not_hold_the_request(settings):
    settings.ZSTACK_READ_CONCURRENCY = 2
    release = threading.Event()
    busy = read_soon(release.wait, release.wait)  # every pool thread taken until release
    threading.Timer(2.0, release.set).start()  # a read_soon that waited for its read to start would wait this long
    asked = time.monotonic()
    waiting = read_soon(lambda: "queued")
    went_on_after = time.monotonic() - asked
    assert not release.is_set() and went_on_after < 1.0  # it went on after READS_START_WAIT
    assert waiting() == ["queued"] and busy() == [True, True]


# --- one login per instance ----------------------------------------------------------------------


def test_processes_sharing_the_cache_log_in_to_zstack_once(zstack_settings, settings):
    settings.ZSTACK_SHARE_SESSION = True
    first, second = client_from_settings(), client_from_settings()  # as two gunicorn workers would
    try:
        for client in (first, second, first, second):
            client.query_zones()
        assert _logins(zstack_settings) == 1
        zstack_settings.expire_sessions()  # ZStack ended the session: one new login serves both again
        for client in (first, second, first, second):
            client.query_zones()
        assert _logins(zstack_settings) == 2
    finally:
        first.close()
        second.close()


def test_without_a_shared_cache_each_process_keeps_its_own_session(zstack_settings, settings):
    settings.ZSTACK_SHARE_SESSION = False
    first, second = client_from_settings(), client_from_settings()
    try:
        for client in (first, second, first):
            client.query_zones()
        assert _logins(zstack_settings) == 2
    finally:
        first.close()
        second.close()


def test_concurrent_page_reads_share_one_login(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    for _ in range(3):
        client.get(f"/storages/{uuid}/card/", **HTMX)
        client.get("/storages/")
    assert _logins(zstack_settings) == 1


# --- database queries and size -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # session, user, one UNION for roles and permissions, the page's own capacity thresholds (one query)
        ("/storages/", ["django_session", "auth_user", "auth_group", "capacity_thresholdoverride"]),
        # the card: the writes running on this storage (its progress lines), its thresholds
        (
            "card",
            [
                "django_session",
                "auth_user",
                "auth_group",
                "storages_submission",
                "capacity_thresholdoverride",
            ],
        ),
    ],
)
def test_a_page_reads_session_user_and_roles_in_one_query_each(
    login_as, zstack_settings, uuid, path, expected, settings
):
    if settings.SESSION_ENGINE.endswith("cached_db"):  # REDIS_URL: the session comes from the cache
        expected = expected[1:]
    client = login_as(Role.VIEWER)
    url = f"/storages/{uuid}/card/" if path == "card" else path
    client.get(url)  # the session clock is written on a first request
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    # The ORM quotes table names; the queries written out as SQL (docs/performance.md) do not need to.
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0].strip('"') for q in queries.captured_queries]
    assert tables == expected


def test_roles_and_permissions_come_from_one_query(zstack_settings):
    from dashboard.accounts.roles import role_of
    from tests.storage_helpers import make_user

    user = make_user(Role.ADMIN, "one-query")
    fresh = type(user).objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        assert role_of(fresh) == Role.ADMIN
        assert fresh.has_perm("accounts.change_storage") and fresh.has_perm("accounts.view_audit")
        assert not fresh.has_perm("accounts.no_such_permission")
    assert len(queries) == 1


def test_the_card_fragment_is_at_most_4_kb(login_as, zstack_settings, uuid):
    response = login_as(Role.ADMIN).get(f"/storages/{uuid}/card/", **HTMX)
    assert len(response.content) <= 4096


# --- the list's presenter ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_row_presenter_formats_as_the_template_filters_do(zstack_settings, language):
    page = selectors.storage_list(page_size=100)
    with translation.override(language):
        rows = presenters.list_rows(page)
        for row, view in zip(page.rows, rows, strict=True):
            s = row.storage
            assert view.available_text == binary_size(s.available_capacity)
            assert view.available_title == exact_bytes(s.available_capacity)
            if s.total_capacity:
                assert binary_size(s.used_capacity) in view.capacity_text
                assert exact_bytes(s.total_capacity) in view.capacity_title
    assert presenters._Formats().exact(1) == exact_bytes(1)
    assert presenters._Formats().size(1023) == binary_size(1023)
    assert presenters._Formats().size(5 * 1024**5) == binary_size(5 * 1024**5)


# --- UUID-prefix search over HTTP ------------------------------------------------------------------


def test_a_pasted_short_uuid_finds_the_storage_with_a_prefix_query(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    target = storage_named(zstack_settings, "bs-sh-archive")
    zstack_settings.clear_requests()
    html = client.get("/storages/", {"q": target["uuid"][:8].upper()}).content.decode()
    assert "1 backup storage" in html and "bs-sh-archive" in html
    query = next(r for r in zstack_requests(zstack_settings) if r["path"].endswith("/image-store"))
    assert ("q", f"uuid~={target['uuid'][:8]}%") in parse_qsl(query["query"])
    assert len(zstack_requests(zstack_settings)) == 2


def test_hex_text_that_starts_no_uuid_is_searched_in_names(login_as, zstack_settings, uuid):
    zstack_settings.patch_storage(uuid, name="cafebabe-store")
    client = login_as(Role.VIEWER)
    html = client.get("/storages/", {"q": "cafebabe"}).content.decode()
    assert "cafebabe-store" in html


def test_the_simulator_answers_uuid_prefix_queries_like_zstack(zstack_settings):
    storages = zstack_settings.storages()
    prefix = storages[0]["uuid"][:10]
    found = get_client().query_image_stores(conditions=[f"uuid~={prefix}%"], with_count=True)
    assert [s.uuid for s in found.items] == [s["uuid"] for s in storages if s["uuid"].startswith(prefix)]
    assert get_client().query_image_stores(conditions=["uuid~=zzzzzzzz%"]).items == ()


def test_short_or_non_hex_text_stays_a_name_search():
    assert selectors.search_conditions(q="abc") == ["name~=%abc%"]
    assert selectors.search_conditions(q="bs-prod-01") == ["name~=%bs-prod-01%"]
    assert selectors.search_conditions(q="7CE42C82") == ["uuid~=7ce42c82%"]
    assert selectors.search_conditions(q="7ce42c82-1807") == ["uuid~=7ce42c821807%"]
