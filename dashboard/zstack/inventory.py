"""Typed, frozen views of ZStack's JSON, parsed once at the edge (docs/zstack-protocol.md §4.1, §6.5, §8).

ZStack omits null fields, so every optional key becomes ``None`` here; capacities are int bytes
whatever JSON number form they arrive in; dates carry the management node's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_MONTHS = {
    m: i
    for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)
}
# "Jun 7, 2017 9:20:12 PM"; newer JVMs put a comma after the year and U+202F / U+00A0 before AM/PM.
_DATE = re.compile(
    r"^\s*(?P<mon>[A-Z][a-z]{2})\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4}),?\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})[\s\u202f\u00a0]*(?P<ampm>[AaPp][Mm])\s*$"
)


def parse_zstack_date(value: Any, tz: tzinfo) -> datetime | None:
    """Parse ZStack's Gson date without depending on the process locale; None if absent or odd."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match or match["mon"] not in _MONTHS:
        return None
    hour = int(match["h"]) % 12 + (12 if match["ampm"].upper() == "PM" else 0)
    try:
        return datetime(
            int(match["year"]),
            _MONTHS[match["mon"]],
            int(match["day"]),
            hour,
            int(match["m"]),
            int(match["s"]),
            tzinfo=tz,
        )
    except ValueError:
        return None


def parse_long(value: Any) -> int | None:
    """Java longs may arrive as 1073741824, 1.073741824E9 or "1073741824" (docs/zstack-protocol.md §8)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class BackupStorage:
    uuid: str
    name: str | None
    description: str | None
    url: str | None
    type: str | None
    state: str | None  # Enabled | Disabled
    status: str | None  # Connecting | Connected | Disconnected
    total_capacity: int | None
    available_capacity: int | None
    create_date: datetime | None
    last_op_date: datetime | None
    attached_zone_uuids: tuple[str, ...]
    # ImageStore-only; sensitive for viewers (never rendered to them).
    hostname: str | None = None
    username: str | None = None
    ssh_port: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], tz: tzinfo) -> BackupStorage:
        zones = data.get("attachedZoneUuids") or []
        return cls(
            uuid=data["uuid"],
            name=_str(data, "name"),
            description=_str(data, "description"),
            url=_str(data, "url"),
            type=_str(data, "type"),
            state=_str(data, "state"),
            status=_str(data, "status"),
            total_capacity=parse_long(data.get("totalCapacity")),
            available_capacity=parse_long(data.get("availableCapacity")),
            create_date=parse_zstack_date(data.get("createDate"), tz),
            last_op_date=parse_zstack_date(data.get("lastOpDate"), tz),
            attached_zone_uuids=tuple(z for z in zones if isinstance(z, str)),
            hostname=_str(data, "hostname"),
            username=_str(data, "username"),
            ssh_port=parse_long(data.get("sshPort")),
        )

    @property
    def used_capacity(self) -> int | None:
        if self.total_capacity is None or self.available_capacity is None:
            return None
        return max(self.total_capacity - self.available_capacity, 0)

    @property
    def used_percent(self) -> float | None:
        used = self.used_capacity
        if used is None or not self.total_capacity:
            return None
        return round(100.0 * used / self.total_capacity, 1)


@dataclass(frozen=True, slots=True)
class Image:
    """An ImageInventory (docs/zstack-protocol.md §4.8). ``size`` is the virtual size, ``actual_size`` the
    bytes stored (None while ZStack does not know it yet, e.g. still downloading)."""

    uuid: str
    name: str | None
    description: str | None
    state: str | None  # Enabled | Disabled
    status: str | None  # Creating | Downloading | Ready | Error | Deleted
    format: str | None  # qcow2, raw, iso, …
    media_type: str | None
    size: int | None
    actual_size: int | None
    create_date: datetime | None
    last_op_date: datetime | None
    backup_storage_uuids: tuple[str, ...]  # from its backupStorageRefs

    @classmethod
    def from_json(cls, data: dict[str, Any], tz: tzinfo) -> Image:
        refs = data.get("backupStorageRefs") or []
        return cls(
            uuid=data["uuid"],
            name=_str(data, "name"),
            description=_str(data, "description"),
            state=_str(data, "state"),
            status=_str(data, "status"),
            format=_str(data, "format"),
            media_type=_str(data, "mediaType"),
            size=parse_long(data.get("size")),
            actual_size=parse_long(data.get("actualSize")),
            create_date=parse_zstack_date(data.get("createDate"), tz),
            last_op_date=parse_zstack_date(data.get("lastOpDate"), tz),
            backup_storage_uuids=tuple(
                ref["backupStorageUuid"]
                for ref in refs
                if isinstance(ref, dict) and isinstance(ref.get("backupStorageUuid"), str)
            ),
        )


@dataclass(frozen=True, slots=True)
class ReclaimResult:
    """The result of ImageStore's garbage collection (§4.8): ``{"gcResult": {"freedSpaceInBytes": N}}``."""

    freed_bytes: int

    @classmethod
    def from_job_body(cls, body: dict[str, Any] | None) -> ReclaimResult | None:
        """None when the body does not say (a build that lost the envelope, §9): the job still succeeded."""
        result = (body or {}).get("gcResult")
        freed = parse_long(result.get("freedSpaceInBytes")) if isinstance(result, dict) else None
        return None if freed is None else cls(freed_bytes=max(freed, 0))


@dataclass(frozen=True, slots=True)
class Zone:
    uuid: str
    name: str | None
    description: str | None
    state: str | None
    type: str | None
    is_default: bool | None
    create_date: datetime | None
    last_op_date: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any], tz: tzinfo) -> Zone:
        is_default = data.get("isDefault")
        return cls(
            uuid=data["uuid"],
            name=_str(data, "name"),
            description=_str(data, "description"),
            state=_str(data, "state"),
            type=_str(data, "type"),
            is_default=is_default if isinstance(is_default, bool) else None,
            create_date=parse_zstack_date(data.get("createDate"), tz),
            last_op_date=parse_zstack_date(data.get("lastOpDate"), tz),
        )


@dataclass(frozen=True, slots=True)
class Session:
    uuid: str
    account_uuid: str | None
    user_uuid: str | None
    user_type: str | None
    expired_date: datetime | None
    create_date: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any], tz: tzinfo) -> Session:
        return cls(
            uuid=data["uuid"],
            account_uuid=_str(data, "accountUuid"),
            user_uuid=_str(data, "userUuid"),
            user_type=_str(data, "userType"),
            expired_date=parse_zstack_date(data.get("expiredDate"), tz),
            create_date=parse_zstack_date(data.get("createDate"), tz),
        )

    def __repr__(self) -> str:  # the session uuid is a bearer credential
        return f"Session(account_uuid={self.account_uuid!r}, expired_date={self.expired_date!r})"


@dataclass(frozen=True, slots=True)
class Tag:
    uuid: str
    resource_uuid: str | None
    resource_type: str | None
    tag: str
    type: str | None  # "System" or "User"
    create_date: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any], tz: tzinfo) -> Tag:
        return cls(
            uuid=data["uuid"],
            resource_uuid=_str(data, "resourceUuid"),
            resource_type=_str(data, "resourceType"),
            tag=_str(data, "tag") or "",
            type=_str(data, "type"),
            create_date=parse_zstack_date(data.get("createDate"), tz),
        )


@dataclass(frozen=True, slots=True)
class ResourceTags:
    system: tuple[Tag, ...]
    user: tuple[Tag, ...]

    @property
    def system_texts(self) -> tuple[str, ...]:
        return tuple(t.tag for t in self.system)

    @property
    def user_texts(self) -> tuple[str, ...]:
        return tuple(t.tag for t in self.user)


@dataclass(frozen=True, slots=True)
class Capacity:
    total: int
    available: int

    @property
    def used(self) -> int:
        return max(self.total - self.available, 0)


@dataclass(frozen=True, slots=True)
class StoredBytes:
    """What a storage's images take: the sum of their actual sizes over ``images`` images; ``complete``
    False when there were too many to read them all (the sum is then a lower bound)."""

    total: int
    images: int
    complete: bool = True


@dataclass(frozen=True, slots=True)
class QueryPage(Generic[T]):
    items: tuple[T, ...]
    total: int | None  # present when asked for with replyWithCount


@dataclass(frozen=True, slots=True)
class JobTicket:
    """An async API that ZStack accepted (202): the X-Job-UUID and the path to poll under /zstack/v1.
    ``poll_path`` None: ZStack answered at once and ``result`` holds the answer. ``already_submitted``:
    the job uuid had been sent before (a resumed submission); the job is followed, not resent."""

    job_uuid: str
    poll_path: str | None
    result: dict[str, Any] | None = None
    already_submitted: bool = False


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One poll of a job: ``done`` False while it runs; then either ``body`` (success) or ``error``."""

    done: bool
    body: dict[str, Any] | None = None
    error: Exception | None = None
