"""The simulator's QueryImage and reclaimSpaceFromImageStore (docs/zstack-protocol.md §4.8), over real HTTP
with the plain helper of tests/test_simulator.py (not the project's client)."""

from __future__ import annotations

import time

import pytest

from simulator.server import SimulatorServer
from tests.sim_helpers import storage_named
from tests.test_simulator import ZSTACK_DATE, ZStack, by_uuid, error_of

IMAGE_CLASS = "org.zstack.header.image.ImageInventory"


@pytest.fixture
def zs(sim: SimulatorServer) -> ZStack:
    return ZStack(sim.url)


def on(uuid: str) -> str:
    return f"backupStorageRefs.backupStorageUuid={uuid}"


def test_seeded_images_are_deterministic_and_varied(sim: SimulatorServer) -> None:
    first = sim.images()
    sim.reset()
    assert sim.images() == first
    assert {image["format"] for image in first} >= {"qcow2", "raw", "iso"}
    assert {image["status"] for image in first} >= {"Ready", "Downloading", "Deleted"}
    assert len({image["actualSize"] for image in first if "actualSize" in image}) > 20
    # Adding images changed no storage: the demo storages keep their seeded uuids and order.
    assert [s["name"] for s in sim.storages()][:2] == ["bs-prod-bj-01", "bs-prod-bj-02"]


def test_images_on_a_storage_are_queried_by_its_backup_storage_ref(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    reply = zs.query("/images", on(uuid), replyWithCount="true")
    assert reply.status == 200, reply.text
    body = reply.json
    assert body["total"] == len(body["inventories"]) == 6
    assert body["schema"]["inventories[0]"] == IMAGE_CLASS
    for image in body["inventories"]:
        assert uuid in [ref["backupStorageUuid"] for ref in image["backupStorageRefs"]]
        assert ZSTACK_DATE.match(image["createDate"]) and ZSTACK_DATE.match(image["backupStorageRefs"][0]["createDate"])
        assert image["backupStorageRefs"][0]["imageUuid"] == image["uuid"]
    # The alias of the same join (ImageInventory's @ExpandedQueryAlias) finds the same images.
    alias = zs.query("/images", f"backupStorage.uuid={uuid}").json["inventories"]
    assert [i["uuid"] for i in alias] == [i["uuid"] for i in body["inventories"]]


def test_the_per_storage_index_finds_what_a_scan_of_every_image_finds(sim: SimulatorServer, zs: ZStack) -> None:
    # on(uuid) starts from the simulator's per-storage index; the alias scans every image.
    for storage in sim.storages():
        for uuid in (storage["uuid"], storage["uuid"].upper()):  # string conditions ignore case
            indexed = zs.query("/images", on(uuid), limit=1000).json["inventories"]
            scanned = zs.query("/images", f"backupStorage.uuid={uuid}", limit=1000).json["inventories"]
            assert [i["uuid"] for i in indexed] == [i["uuid"] for i in scanned]
    assert zs.query("/images", on(sim.storages()[0]["uuid"] + " ")).json["inventories"] == []  # not trimmed


def test_an_image_replicated_to_two_storages_is_found_on_both(sim: SimulatorServer, zs: ZStack) -> None:
    source, replica = storage_named(sim, "bs-prod-bj-01")["uuid"], storage_named(sim, "imagestore-dr-01")["uuid"]
    shared = {i["uuid"] for i in zs.query("/images", on(source), limit=100).json["inventories"]} & {
        i["uuid"] for i in zs.query("/images", on(replica), limit=100).json["inventories"]
    }
    assert len(shared) == 3


def test_image_pages_are_sorted_by_size_and_counted(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    everything = zs.query("/images", on(uuid), sort="-actualSize").json["inventories"]
    assert len(everything) == 23
    page = zs.query("/images", on(uuid), sort="-actualSize", start=10, limit=10, replyWithCount="true").json
    assert page["total"] == 23
    assert [i["uuid"] for i in page["inventories"]] == [i["uuid"] for i in everything[10:20]]
    known = [i["actualSize"] for i in everything if "actualSize" in i]
    assert known == sorted(known, reverse=True)
    # Ascending puts the nulls (images still downloading) first, as MySQL does.
    ascending = zs.query("/images", on(uuid), sort="+size").json["inventories"]
    assert [i["size"] for i in ascending] == sorted(i["size"] for i in ascending)


def test_an_empty_storage_has_no_images_and_an_unknown_join_field_is_an_internal_error(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-ci-cache")["uuid"]
    assert zs.query("/images", on(uuid), replyWithCount="true").json["total"] == 0
    assert error_of(zs.query("/images", "backupStorageRefs.nope=1"))["code"] == "SYS.1000"
    assert error_of(zs.query("/images", on(uuid), sort="backupStorageRefs"))["code"] == "SYS.1000"


def test_fields_return_only_the_sizes_asked_for(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    items = zs.query("/images", on(uuid), fields="uuid,actualSize").json["inventories"]
    assert items and all(set(item) <= {"uuid", "actualSize"} for item in items)


def test_get_image_by_uuid_answers_a_list(sim: SimulatorServer, zs: ZStack) -> None:
    image = sim.images()[0]
    assert zs.get(f"/images/{image['uuid']}").json["inventories"] == [image]
    assert zs.get(f"/images/{'0' * 32}").json["inventories"] == []


def reclaim(client: ZStack, uuid: str, key: str = "reclaimSpaceFromImageStore"):
    return client.put(f"/backup-storage/image-store/{uuid}/actions", {key: {}})


def test_reclaim_is_an_async_job_that_frees_the_seeded_garbage_once(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    seeded, before = sim.reclaimable(uuid), by_uuid(sim, uuid)["availableCapacity"]
    assert seeded > 0
    submitted = reclaim(zs, uuid)
    assert submitted.status == 202
    finished = zs.finish(submitted)
    assert finished.status == 200
    assert finished.json == {"gcResult": {"freedSpaceInBytes": seeded}}
    assert by_uuid(sim, uuid)["availableCapacity"] == before + seeded  # capacity grows back
    again = zs.finish(reclaim(zs, uuid))
    assert again.json == {"gcResult": {"freedSpaceInBytes": 0}}  # nothing left to collect
    assert sim.audits()[-1]["apiName"].endswith("APIReclaimSpaceFromImageStoreMsg")


def test_reclaim_respects_job_seconds_and_frees_nothing_while_running(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    before = by_uuid(sim, uuid)["availableCapacity"]
    sim.set_faults(job_seconds=0.5, job_polls=0)
    path = zs.job_path(reclaim(zs, uuid))
    assert zs.request("GET", path).status == 202
    assert by_uuid(sim, uuid)["availableCapacity"] == before
    time.sleep(0.6)
    assert zs.request("GET", path).status == 200
    assert by_uuid(sim, uuid)["availableCapacity"] > before


def test_reclaim_on_a_disconnected_storage_or_an_unknown_one_fails_through_the_job(
    sim: SimulatorServer, zs: ZStack
) -> None:
    disconnected = storage_named(sim, "上海备份存储")["uuid"]
    assert error_of(zs.finish(reclaim(zs, disconnected)))["code"] == "SYS.1006"
    assert error_of(zs.finish(reclaim(zs, "0" * 32)))["code"] == "SYS.1003"


def test_the_reclaim_action_key_is_matched_case_sensitively(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = reclaim(zs, uuid, key="reclaimspacefromimagestore")
    assert reply.status == 400 and "doesn't contain action mapping" in reply.text
