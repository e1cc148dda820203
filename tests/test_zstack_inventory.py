"""Parsing ZStack's JSON into typed inventories (docs/zstack-protocol.md §4.1, §8)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.zstack.inventory import (
    BackupStorage,
    Capacity,
    Session,
    Tag,
    Zone,
    parse_long,
    parse_zstack_date,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jun 7, 2017 9:20:12 PM", datetime(2017, 6, 7, 21, 20, 12)),
        ("Jan 12, 2024 10:03:05 AM", datetime(2024, 1, 12, 10, 3, 5)),
        ("Mar 1, 2024 12:00:01 AM", datetime(2024, 3, 1, 0, 0, 1)),
        ("Mar 1, 2024 12:30:00 PM", datetime(2024, 3, 1, 12, 30, 0)),
        ("Jun 7, 2017, 9:20:12\u202fPM", datetime(2017, 6, 7, 21, 20, 12)),
        ("Jun 7, 2017 9:20:12\u00a0pm", datetime(2017, 6, 7, 21, 20, 12)),
    ],
)
def test_zstack_dates_parse_in_the_management_nodes_zone(text, expected):
    assert parse_zstack_date(text, SHANGHAI) == expected.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "value", [None, 1496841612000, "", "2017-06-07T21:20:12Z", "Foo 7, 2017 9:20:12 PM", "Feb 30, 2024 9:20:12 PM"]
)
def test_unparseable_or_absent_dates_become_none(value):
    assert parse_zstack_date(value, SHANGHAI) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1073741824, 1073741824),
        (1.073741824e9, 1073741824),
        ("1.073741824E9", 1073741824),
        ("1073741824", 1073741824),
        (10995116277760, 10995116277760),
        (None, None),
        (True, None),
        ("many", None),
    ],
)
def test_longs_accept_every_json_number_form(value, expected):
    assert parse_long(value) == expected


def test_a_backup_storage_with_omitted_keys_reads_them_as_none():
    storage = BackupStorage.from_json({"uuid": "a" * 32, "name": "bs-1"}, SHANGHAI)
    assert storage.description is None
    assert storage.total_capacity is None
    assert storage.hostname is None
    assert storage.attached_zone_uuids == ()
    assert storage.used_capacity is None
    assert storage.used_percent is None


def test_a_full_image_store_inventory_is_typed():
    storage = BackupStorage.from_json(
        {
            "uuid": "9f1c" * 8,
            "name": "备份-1",
            "url": "/data/zstack/bs",
            "totalCapacity": 1.073741824e9,
            "availableCapacity": 268435456,
            "type": "ImageStoreBackupStorage",
            "state": "Enabled",
            "status": "Connected",
            "createDate": "Jun 7, 2017 9:20:12 PM",
            "lastOpDate": "Jun 8, 2017 1:00:00 AM",
            "attachedZoneUuids": ["c1b8" * 8],
            "hostname": "10.0.0.5",
            "username": "root",
            "sshPort": 22,
            "schemaOnlyExtra": "ignored",
        },
        SHANGHAI,
    )
    assert storage.name == "备份-1"
    assert storage.total_capacity == 1073741824
    assert storage.used_capacity == 805306368
    assert storage.used_percent == 75.0
    assert storage.ssh_port == 22
    assert storage.attached_zone_uuids == ("c1b8" * 8,)
    assert storage.last_op_date == datetime(2017, 6, 8, 1, 0, 0, tzinfo=SHANGHAI)


def test_used_capacity_never_goes_negative():
    storage = BackupStorage.from_json({"uuid": "a" * 32, "totalCapacity": 10, "availableCapacity": 20}, SHANGHAI)
    assert storage.used_capacity == 0
    assert Capacity(total=10, available=20).used == 0


def test_a_zone_reads_is_default_only_as_a_boolean():
    assert Zone.from_json({"uuid": "z" * 32, "isDefault": True}, SHANGHAI).is_default is True
    assert Zone.from_json({"uuid": "z" * 32, "isDefault": "yes"}, SHANGHAI).is_default is None


def test_a_session_repr_never_shows_its_uuid():
    session = Session.from_json({"uuid": "5e551011" * 4, "accountUuid": "acc"}, SHANGHAI)
    assert "5e551011" not in repr(session)


def test_a_tag_without_text_reads_as_empty():
    assert Tag.from_json({"uuid": "t" * 32}, SHANGHAI).tag == ""
