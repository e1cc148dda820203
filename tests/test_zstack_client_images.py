"""The client's image queries and reclaim action (docs/zstack-protocol.md §4.8) against the simulator over
real HTTP: the exact query sent, the typed inventories, the job ticket and its typed result."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from dashboard.zstack.client import ZStackClient, new_job_uuid
from dashboard.zstack.inventory import Image, ReclaimResult
from tests.sim_helpers import storage_named

API = "/zstack/v1"


@pytest.fixture
def client(sim):
    zstack = ZStackClient(sim.url, "admin", "password", timeout=2.0)
    yield zstack
    zstack.close()


def image_gets(sim):
    return [r for r in sim.requests() if r["method"] == "GET" and r["path"] == f"{API}/images"]


def test_images_on_a_storage_sends_the_ref_join_paging_sort_and_count(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    page = client.images_on_backup_storage(uuid, limit=10, start=10, sort="-size")
    [request] = image_gets(sim)
    assert parse_qsl(request["query"]) == [
        ("q", f"backupStorageRefs.backupStorageUuid={uuid}"),
        ("limit", "10"),
        ("start", "10"),
        ("sort", "-size"),
        ("replyWithCount", "true"),
    ]
    assert page.total == 23 and len(page.items) == 10
    assert all(isinstance(image, Image) and uuid in image.backup_storage_uuids for image in page.items)
    sizes = [image.size for image in page.items]
    assert sizes == sorted(sizes, reverse=True)


def test_an_ascending_sort_is_sent_as_percent_2b(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    client.images_on_backup_storage(uuid, limit=5, sort="+actualSize")
    [request] = image_gets(sim)
    assert "sort=%2BactualSize" in request["query"]


def test_image_inventories_are_typed_with_sizes_dates_and_a_missing_actual_size_as_none(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    images = client.images_on_backup_storage(uuid, limit=100).items
    raw = {image["uuid"]: image for image in sim.images()}
    for image in images:
        wire = raw[image.uuid]
        assert (image.name, image.format, image.status, image.size) == (
            wire["name"],
            wire["format"],
            wire["status"],
            wire["size"],
        )
        assert image.actual_size == wire.get("actualSize")
        assert image.create_date is not None and image.create_date.tzinfo is not None
    assert any(image.actual_size is None for image in images)  # still downloading


def test_actual_size_on_a_storage_sums_every_image_reading_only_the_sizes(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    expected = sum(
        image.get("actualSize", 0)
        for image in sim.images()
        if uuid in [ref["backupStorageUuid"] for ref in image["backupStorageRefs"]]
    )
    stored = client.actual_size_on_backup_storage(uuid, page_size=10)
    assert (stored.total, stored.images, stored.complete) == (expected, 23, True)
    requests = image_gets(sim)
    assert len(requests) == 3  # 10 + 10 + 3
    assert all(("fields", "uuid,actualSize") in parse_qsl(r["query"]) for r in requests)


def test_actual_size_past_the_bound_is_a_lower_bound(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    stored = client.actual_size_on_backup_storage(uuid, page_size=5, max_images=10)
    assert (stored.images, stored.complete) == (23, False)


def test_submit_reclaim_space_sends_one_put_under_the_job_uuid_and_its_result_is_typed(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    freed = sim.reclaimable(uuid)
    job = new_job_uuid()
    ticket = client.submit_reclaim_space(uuid, job_uuid=job)
    assert ticket.job_uuid == job and ticket.poll_path == f"/api-jobs/{job}"
    [put] = [r for r in sim.requests() if r["method"] == "PUT" and r["path"].endswith("/actions")]
    assert put["path"] == f"{API}/backup-storage/image-store/{uuid}/actions"
    assert put["body"] == {"reclaimSpaceFromImageStore": {}}
    assert put["headers"]["X-Job-UUID"] == job
    status = client.poll_job(ticket)
    while not status.done:
        status = client.poll_job(ticket)
    assert status.error is None
    assert ReclaimResult.from_job_body(status.body) == ReclaimResult(freed_bytes=freed)


def test_a_resubmitted_reclaim_ticket_is_followed_not_sent_again(sim, client):
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    job = new_job_uuid()
    client.submit_reclaim_space(uuid, job_uuid=job)
    again = client.submit_reclaim_space(uuid, job_uuid=job)  # ZStack: 400 Duplicate job uuid
    assert again.already_submitted


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"gcResult": {"freedSpaceInBytes": 1288490188}}, ReclaimResult(1288490188)),
        ({"gcResult": {"freedSpaceInBytes": 1.288490188e9}}, ReclaimResult(1288490188)),
        ({"gcResult": {"freedSpaceInBytes": 0}}, ReclaimResult(0)),
        ({}, None),
        (None, None),
        ({"gcResult": "odd"}, None),
    ],
)
def test_a_reclaim_result_is_read_from_any_number_form_or_is_none(body, expected):
    assert ReclaimResult.from_job_body(body) == expected
