"""Images stored on the seeded backup storages, and the space ImageStore's garbage collection can reclaim
(docs/zstack-protocol.md §4.8; issue 12 "what fills a storage").

Deterministic: built from the storages' own records with an rng of its own, so adding images changes no
storage's uuid, name or dates. Per storage: a seeded number of images (the first demo storage has enough
for several pages, ``bs-ci-cache`` none, for the empty state), of varied formats and statuses; a few images
sit on two storages (a replicated template), each with one backup-storage ref per storage. Each storage
also gets ``_reclaimable``: bytes its garbage collection frees once (a second reclaim frees 0).

Image records are plain dicts keyed by ImageInventory field name, dates as epoch seconds, ``None`` = null.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

GIB = 2**30
# name -> how many images the hand-written demo storages hold (generated storages: 0-5 by the rng)
_COUNTS = {
    "bs-prod-bj-01": 23,  # more than a page: the console's pager shows
    "bs-prod-bj-02": 6,
    "镜像仓库-北京-03": 9,
    "bs-sh-archive": 12,
    "上海备份存储": 3,
    "bs-dev-shared": 5,
    "imagestore-dr-01": 7,
    "测试环境镜像库": 8,
    "bs-sz-prod-01": 4,
    "深圳灾备镜像仓库": 2,
    "bs-ci-cache": 0,  # "not attached yet": the empty state
    "bs-legacy-2019": 4,
}
# Storages that also hold a copy of some of another's images (disaster-recovery replicas).
_REPLICAS = {"imagestore-dr-01": "bs-prod-bj-01", "深圳灾备镜像仓库": "bs-sz-prod-01"}
_OS = (
    ("CentOS-7.9", "CentOS", "Linux"),
    ("Ubuntu-22.04", "Ubuntu", "Linux"),
    ("Rocky-9.2", "Rocky", "Linux"),
    ("Kylin-V10", "Kylin", "Linux"),
    ("UOS-20", "UOS", "Linux"),
    ("Windows-Server-2019", "Windows", "Windows"),
    ("Windows-10", "Windows", "Windows"),
    ("Debian-12", "Debian", "Linux"),
)
# ImageStatus (header/.../image/ImageStatus.java): most are Ready; the others show every status.
_STATUSES = ("Ready",) * 12 + ("Downloading", "Creating", "Error", "Deleted")


def _uuid(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def build(storages: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Every image, each with its backupStorageRefs; sets each storage's ``_reclaimable``."""
    rng = random.Random(f"images/{seed}")
    images: list[dict[str, Any]] = []
    by_name: dict[str, list[dict[str, Any]]] = {}
    for index, storage in enumerate(storages):
        count = _COUNTS.get(storage["name"], rng.randrange(6)) if index < len(_COUNTS) else rng.randrange(6)
        own = [_image(rng, storage, n) for n in range(count)]
        images.extend(own)
        by_name[storage["name"]] = own
        used = storage["totalCapacity"] - storage["availableCapacity"]
        # What garbage collection finds: blobs no image refers to any more, 0.5-4 % of the used space.
        storage["_reclaimable"] = int(used * rng.uniform(0.005, 0.04)) if storage["status"] != "Disconnected" else 0
    for replica, source in _REPLICAS.items():
        target = next((s for s in storages if s["name"] == replica), None)
        for image in by_name.get(source, [])[:3] if target is not None else ():
            image["backupStorageRefs"].append(_ref(image, target, image["createDate"] + 3600))
    return images


def _image(rng: random.Random, storage: dict[str, Any], n: int) -> dict[str, Any]:
    os_name, guest, platform = rng.choice(_OS)
    kind = rng.choices(("root", "data", "iso"), weights=(6, 3, 2))[0]
    if kind == "iso":
        fmt, media, size = "iso", "ISO", rng.randrange(1 * GIB, 9 * GIB)
        actual: int | None = size  # an ISO is stored as it is
        name = f"{os_name}.iso"
    else:
        fmt = rng.choices(("qcow2", "raw"), weights=(4, 1))[0]
        media = "RootVolumeTemplate" if kind == "root" else "DataVolumeTemplate"
        size = rng.choice((20, 40, 50, 80, 100, 200, 500, 1024)) * GIB
        actual = size if fmt == "raw" else int(size * rng.uniform(0.05, 0.6))  # qcow2 is thin
        name = f"{os_name}-{'template' if kind == 'root' else 'data'}-{n + 1:02d}"
    status = rng.choice(_STATUSES)
    if status in ("Downloading", "Creating"):
        actual = None  # not known until the image is in place (null: omitted on the wire)
    created = storage["createDate"] + rng.randrange(1, 400 * 86400)
    image: dict[str, Any] = {
        "uuid": _uuid(rng),
        "name": name,
        "description": None if n % 3 else f"{os_name} {media}",
        "state": "Disabled" if rng.random() < 0.1 else "Enabled",
        "status": status,
        "size": size,
        "actualSize": actual,
        "md5Sum": None,
        "url": f"http://mirror.example.org/images/{name}",
        "mediaType": media,
        "guestOsType": guest,
        "type": "zstack",
        "platform": platform,
        "architecture": rng.choice(("x86_64", "x86_64", "x86_64", "aarch64")),
        "format": fmt,
        "system": False,
        "virtio": platform == "Linux",
        "createDate": created,
        "lastOpDate": created + rng.randrange(0, 30 * 86400),
        "backupStorageRefs": [],
    }
    image["backupStorageRefs"].append(_ref(image, storage, created))
    return image


def _ref(image: dict[str, Any], storage: dict[str, Any], created: float) -> dict[str, Any]:
    """An ImageBackupStorageRefInventory (header/.../image/ImageBackupStorageRefInventory.java)."""
    return {
        "imageUuid": image["uuid"],
        "backupStorageUuid": storage["uuid"],
        "installPath": f"zstore://{storage['uuid'][:8]}/{image['uuid']}",
        "status": image["status"],
        "createDate": created,
        "lastOpDate": created,
    }


def reclaim(storage: dict[str, Any]) -> int:
    """Garbage-collect a storage: the seeded reclaimable bytes go back to ``availableCapacity`` (ImageStore
    adds what the agent freed: ``updateCapacity(total, available + freed)``); a second run frees 0."""
    freed = int(storage.get("_reclaimable", 0))
    storage["_reclaimable"] = 0
    if freed > 0:
        storage["availableCapacity"] = min(storage["totalCapacity"], storage["availableCapacity"] + freed)
    return freed
