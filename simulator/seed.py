"""Deterministic demo data: three zones, N ImageStore backup storages, a few tags.

Records are plain dicts keyed by inventory field name (docs/zstack-protocol.md §4.1, §6.5) with dates as epoch
seconds; ``None`` means null (omitted on the wire). The SSH password lives under ``_password`` and is
never serialized. Host names and IPs are documentation ranges: the simulator never connects anywhere.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

TIB = 2**40
IMAGE_STORE_TYPE = "ImageStoreBackupStorage"
STORAGE_RESOURCE_TYPE = "ImageStoreBackupStorageVO"
# 2023-01-01 00:00:00 Asia/Shanghai: fixed so the data does not depend on when it is generated.
_EPOCH_BASE = 1672502400
_DAY = 86400

_ZONES = (
    ("zone-beijing-01", "北京一号机房", True),
    ("zone-shanghai-02", "上海二号机房（灾备）", False),
    ("华南-深圳", None, False),
)

# (name, description, state, status, hostname, username, sshPort, total TiB, used fraction,
#  zone indexes, system tags, user tags) for the first dozen: every state/status mix is present.
_DEMO = (
    (
        "bs-prod-bj-01",
        "Production images, Beijing",
        "Enabled",
        "Connected",
        "192.0.2.11",
        "root",
        22,
        100,
        0.62,
        (0,),
        ("priority::high",),
        ("env::prod", "owner::storage-team"),
    ),
    ("bs-prod-bj-02", None, "Enabled", "Connected", "192.0.2.12", "root", 22, 100, 0.48, (0, 1), (), ("env::prod",)),
    (
        "镜像仓库-北京-03",
        "北京生产镜像仓库",
        "Enabled",
        "Connected",
        "imagestore-03.example.com",
        "root",
        22,
        64,
        0.71,
        (0,),
        (),
        ("环境::生产",),
    ),
    (
        "bs-sh-archive",
        "Cold archive of retired templates",
        "Enabled",
        "Connected",
        "198.51.100.20",
        "zstack",
        2222,
        200,
        0.89,
        (1,),
        ("priority::low",),
        ("archive",),
    ),
    ("上海备份存储", None, "Enabled", "Disconnected", "198.51.100.21", "root", 22, 48, 0.35, (1,), (), ()),
    (
        "bs-dev-shared",
        "Shared by the dev teams",
        "Disabled",
        "Connected",
        "192.0.2.30",
        "root",
        22,
        16,
        0.22,
        (0, 2),
        (),
        ("env::dev",),
    ),
    (
        "imagestore-dr-01",
        "Disaster recovery copy",
        "Enabled",
        "Connected",
        "dr-01.example.net",
        "root",
        22022,
        120,
        0.55,
        (2,),
        (),
        (),
    ),
    (
        "测试环境镜像库",
        "测试环境使用，容量将满",
        "Enabled",
        "Connected",
        "203.0.113.7",
        "tester",
        22,
        8,
        0.97,
        (2,),
        (),
        ("env::test",),
    ),
    ("bs-sz-prod-01", None, "Enabled", "Connected", "203.0.113.8", "root", 22, 80, 0.40, (2,), (), ("env::prod",)),
    (
        "深圳灾备镜像仓库",
        "深圳灾备",
        "Enabled",
        "Connected",
        "203.0.113.9",
        "root",
        22,
        160,
        0.12,
        (1, 2),
        ("priority::high",),
        (),
    ),
    (
        "bs-ci-cache",
        "CI build cache (not attached yet)",
        "Enabled",
        "Connected",
        "ci-cache.example.org",
        "ci",
        2200,
        4,
        0.05,
        (),
        (),
        ("owner::ci",),
    ),
    (
        "bs-legacy-2019",
        "Scheduled for removal",
        "Disabled",
        "Disconnected",
        "192.0.2.99",
        "root",
        22,
        10,
        0.76,
        (0,),
        (),
        ("env::legacy",),
    ),
)


@dataclass
class DemoData:
    zones: list[dict[str, Any]]
    storages: list[dict[str, Any]]
    tags: list[dict[str, Any]]  # system and user tag records, "type" says which


def _uuid(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def build(storages: int = 12, seed: int = 1) -> DemoData:
    rng = random.Random(seed)
    zones = [_zone(rng, index, *spec) for index, spec in enumerate(_ZONES)]
    data = DemoData(zones=zones, storages=[], tags=[])
    for index in range(storages):
        spec = _DEMO[index] if index < len(_DEMO) else _generated_spec(rng, index)
        _add_storage(data, rng, spec)
    return data


def _zone(rng: random.Random, index: int, name: str, description: str | None, is_default: bool) -> dict[str, Any]:
    created = _EPOCH_BASE + index * 3 * _DAY
    return {
        "uuid": _uuid(rng),
        "name": name,
        "description": description,
        "state": "Enabled",
        "type": "zstack",
        "isDefault": is_default,
        "createDate": created,
        "lastOpDate": created,
    }


def _generated_spec(rng: random.Random, index: int) -> tuple:
    """Storages beyond the hand-written dozen (``--storages N``): plausible, varied, reproducible."""
    chinese = rng.random() < 0.3
    name = f"镜像仓库-{index:05d}" if chinese else f"bs-{rng.choice(('prod', 'dev', 'dr', 'ops'))}-{index:05d}"
    state = "Disabled" if rng.random() < 0.1 else "Enabled"
    status = "Disconnected" if rng.random() < 0.08 else "Connected"
    host = rng.choice((f"198.51.100.{index % 250 + 1}", f"203.0.113.{index % 250 + 1}", f"bs-{index:05d}.example.net"))
    zones = tuple(sorted(rng.sample(range(3), rng.choice((1, 1, 1, 2)))))
    user_tags = (f"env::{rng.choice(('prod', 'dev', 'test'))}",) if index % 5 == 0 else ()
    return (
        name,
        None if index % 3 else f"Generated storage #{index}",
        state,
        status,
        host,
        rng.choice(("root", "root", "zstack")),
        rng.choice((22, 22, 22, 2222)),
        rng.choice((2, 4, 8, 10, 16, 20, 32, 48, 64, 100, 200)),
        rng.uniform(0.02, 0.98),
        zones,
        (),
        user_tags,
    )


def _add_storage(data: DemoData, rng: random.Random, spec: tuple) -> None:
    (
        name,
        description,
        state,
        status,
        hostname,
        username,
        ssh_port,
        total_tib,
        used,
        zone_indexes,
        system_tags,
        user_tags,
    ) = spec
    total = total_tib * TIB
    created = _EPOCH_BASE + rng.randrange(600 * _DAY)
    changed = created + rng.randrange(200 * _DAY)
    storage = {
        "uuid": _uuid(rng),
        "name": name,
        "url": "/zstack_bs",
        "description": description,
        "totalCapacity": total,
        "availableCapacity": total - int(total * used),
        "type": IMAGE_STORE_TYPE,
        "state": state,
        "status": status,
        "createDate": created,
        "lastOpDate": changed,
        "attachedZoneUuids": [data.zones[i]["uuid"] for i in zone_indexes],
        "hostname": hostname,
        "username": username,
        "sshPort": ssh_port,
        "_password": f"demo-{rng.randrange(10**8):08d}",
    }
    data.storages.append(storage)
    for kind, texts in (("System", system_tags), ("User", user_tags)):
        for text in texts:
            data.tags.append(new_tag(_uuid(rng), storage["uuid"], text, kind, changed))


def new_tag(
    tag_uuid: str, resource_uuid: str, text: str, kind: str, now: float, resource_type: str = STORAGE_RESOURCE_TYPE
) -> dict[str, Any]:
    """A SystemTagInventory or UserTagInventory record (docs/zstack-protocol.md §6.5)."""
    tag: dict[str, Any] = {
        "uuid": tag_uuid,
        "resourceUuid": resource_uuid,
        "resourceType": resource_type,
        "tag": text,
        "type": kind,
        "createDate": now,
        "lastOpDate": now,
    }
    if kind == "System":
        tag["inherent"] = False
    return tag
