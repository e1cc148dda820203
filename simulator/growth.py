"""Capacity that grows over time (opt-in: ``--capacity-growth``; ``make run`` turns it on; issue 12).

Each storage has a seeded trend, a fraction of its total capacity used per day: the hand-written demo
storages by name (some steady, some fast, some flat, the 97 %-full "测试环境镜像库" filling in about a week),
generated ones by their uuid (about 40 % flat, 45 % steady, 15 % fast). ``trend()`` is a pure function
of the inventory, so the console's demo-only ``seed_capacity_history`` command can draw the same curve
backwards (``used_before``), with a little deterministic noise on some storages so not every forecast is
"fairly sure". Available capacity is recomputed from the elapsed time when a request arrives
(State.advance_capacity): never below zero, and an out-of-band PATCH of availableCapacity continues from
the patched value. Standard library only.
"""

from __future__ import annotations

import hashlib
import math

DAY = 86400.0

# name -> (kind, fraction of the total per day)
_HAND_WRITTEN = {
    "bs-prod-bj-01": ("steady", 0.004),
    "bs-prod-bj-02": ("flat", 0.0),
    "镜像仓库-北京-03": ("fast", 0.012),
    "bs-sh-archive": ("steady", 0.003),
    "上海备份存储": ("flat", 0.0),
    "bs-dev-shared": ("flat", 0.0),
    "imagestore-dr-01": ("steady", 0.002),
    "测试环境镜像库": ("steady", 0.004),  # 97 % used: full in about a week
    "bs-sz-prod-01": ("fast", 0.02),
    "深圳灾备镜像仓库": ("steady", 0.001),
    "bs-ci-cache": ("fast", 0.03),
    "bs-legacy-2019": ("flat", 0.0),
}


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode("utf-8")).digest()[:8], "big")


def trend(uuid: str, name: str | None) -> tuple[str, float]:
    """(kind, fraction of the total capacity used per day) for a storage."""
    if name in _HAND_WRITTEN:
        return _HAND_WRITTEN[name]
    h = _hash(uuid) % 100
    if h < 40:
        return "flat", 0.0
    if h < 85:
        return "steady", 0.001 + (h % 7) * 0.0005
    return "fast", 0.01 + (h % 5) * 0.004


def bytes_per_second(uuid: str, name: str | None, total: int) -> float:
    return trend(uuid, name)[1] * total / DAY


def noise(uuid: str, seconds_before: float, total: int) -> int:
    """A small deterministic wobble (±0.4 % of the total) on one storage in four, for seeded history."""
    if _hash(uuid, "noisy") % 4:
        return 0
    return int(0.004 * total * math.sin(seconds_before / 9000.0 + _hash(uuid) % 628 / 100))


def used_before(uuid: str, name: str | None, total: int, used_now: int, seconds_before: float) -> int:
    """What the trend says was used ``seconds_before`` now (never below zero nor above the total)."""
    used = used_now - bytes_per_second(uuid, name, total) * seconds_before + noise(uuid, seconds_before, total)
    return int(min(max(used, 0), total))
