"""Reads (HackSoftware style): what the list and the card show, fetched from ZStack in as few calls as
possible. A viewer's data never carries hostname, username, sshPort or tags: they are dropped here,
at the edge, so no template or fragment can leak them by mistake."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from dashboard.capacity import selectors as capacity_selectors
from dashboard.capacity import thresholds
from dashboard.capacity.thresholds import Thresholds
from dashboard.zstack import query
from dashboard.zstack.client import ZStackClient
from dashboard.zstack.errors import ResourceNotFound, ZStackError
from dashboard.zstack.inventory import BackupStorage, Image, QueryPage, ResourceTags, StoredBytes, Zone

from .zstack_client import get_client, read_concurrently, read_soon

_FULL_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
# What people paste from a shortened UUID (the list shows the first 8 characters): hex only, long enough that
# a name search for it would be unlikely to be meant. Shorter text is searched in names only.
UUID_PREFIX_MIN = 8
_UUID_PREFIX = re.compile(rf"^[0-9a-fA-F]{{{UUID_PREFIX_MIN},31}}$")
# ZStack finds a condition's operator by substring, in a fixed order, and splits at its first occurrence
# (docs/zstack-protocol.md §6.2). In ``name~=%text%`` every operator listed before ``~=`` that occurs in the text
# would be taken as the operator instead: the search refuses them. Later ones (``~=``, ``?=``, ``=``) are
# harmless there, as the first ``~=`` wins.
QUERY_BREAKERS = ("!=", ">=", "<=", "!?=", "!~=")
USED_PERCENT = "usedPercent"  # the one sort ZStack can't do: ranked by our capacity snapshots


@dataclass(frozen=True, slots=True)
class ZoneRef:
    uuid: str
    name: str  # the uuid when ZStack no longer knows the zone


@dataclass(frozen=True, slots=True)
class StorageRow:
    storage: BackupStorage
    zones: tuple[ZoneRef, ...]
    limits: Thresholds | None = None  # its effective capacity thresholds (badge, meter)


class Paged:
    """Page arithmetic for a page of ``total`` items, ``page_size`` a page, ``shown`` on this one."""

    __slots__ = ()
    total: int
    page: int
    page_size: int

    @property
    def shown(self) -> int:
        raise NotImplementedError

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.shown else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.page_size + self.shown


@dataclass(frozen=True, slots=True)
class StorageListPage(Paged):
    rows: tuple[StorageRow, ...]
    total: int
    page: int
    page_size: int
    zones: tuple[Zone, ...]  # every zone, for the filter's choices
    error: ZStackError | None = None
    # The "above warning / critical" filter and the used % sort rank by our latest capacity snapshot
    # (capacity.selectors.ranked_page): ``capacity_as_of`` is that snapshot's time, ``no_snapshot`` says there
    # is none yet, ``ignored`` names the filters that could not be combined with it (state, status).
    by_capacity: bool = False
    capacity_as_of: datetime | None = None
    no_snapshot: bool = False
    ignored: tuple[str, ...] = ()

    @property
    def shown(self) -> int:
        return len(self.rows)

    def page_window(self, around: int = 2) -> tuple[int | None, ...]:
        """The pager's page numbers: the first, the last and ``around`` either side of the current one;
        None where numbers are left out (shown as "…"). 10,000 storages are 400 pages: never all of them."""
        last = self.num_pages
        shown = {1, last, *range(max(1, self.page - around), min(last, self.page + around) + 1)}
        window: list[int | None] = []
        for number in sorted(shown):
            if window and number - (window[-1] or 0) == 2:
                window.append(number - 1)  # a gap of one page: the number itself, not "…"
            elif window and number - (window[-1] or 0) > 2:
                window.append(None)
            window.append(number)
        return tuple(window)


@dataclass(frozen=True, slots=True)
class StorageCard:
    storage: BackupStorage
    zones: tuple[ZoneRef, ...]
    tags: ResourceTags | None  # None unless the reader may see details
    fetched_at: datetime

    @property
    def is_connecting(self) -> bool:
        return self.storage.status == "Connecting"


def redact(storage: BackupStorage) -> BackupStorage:
    """What a viewer may see: capacity and status, no connection details."""
    return dataclasses.replace(storage, hostname=None, username=None, ssh_port=None)


def search_conditions(*, q: str = "", state: str = "", status: str = "", zone: str = "") -> list[str]:
    """ZStack query conditions (docs/zstack-protocol.md §6.2). ``q`` is a full UUID, the start of one (8 to 31
    hex digits: ``uuid~=prefix%``) or part of a name, in which ``%`` and ``_`` stay LIKE wildcards: ZStack
    offers no escape for them. ValueError if ``q`` holds an operator that would be mis-parsed
    (QUERY_BREAKERS; the filter form refuses those first)."""
    conditions = []
    q = q.strip()
    if q:
        compact = q.replace("-", "")
        if _FULL_UUID.match(compact):
            conditions.append(f"uuid={compact.lower()}")
        elif _UUID_PREFIX.match(compact):
            conditions.append(f"uuid~={compact.lower()}%")
        elif any(breaker in q for breaker in QUERY_BREAKERS):
            raise ValueError("the search text holds a query operator ZStack would mis-parse")
        else:
            conditions.append(f"name~=%{q}%")
    if state:
        conditions.append(f"state={state}")
    if status:
        conditions.append(f"status={status}")
    if zone:
        conditions.append(f"attachedZoneUuids={zone}")
    return conditions


def storage_list(
    *,
    q: str = "",
    state: str = "",
    status: str = "",
    zone: str = "",
    sort: str = "name",
    page: int = 1,
    page_size: int = 25,
    capacity: str = "",
) -> StorageListPage:
    """One page of storages: ONE image-store query and ONE zone query, run at once, whatever the page size.
    The list shows no connection details to anyone, so every row is redacted. A search that looks like the
    start of a UUID and matches none is tried once more as part of a name (a third call, only then).
    ``capacity`` ("warning", "critical") and the ``usedPercent`` sort go through _by_capacity (still two
    queries)."""
    client = get_client()
    direction, field = ("-", sort[1:]) if sort.startswith("-") else ("+", sort)
    no_snapshot = False
    if capacity or field == USED_PERCENT:
        ranking = capacity_selectors.ranked_page(
            level=capacity,
            descending=direction == "-" if field == USED_PERCENT else True,
            q=q,
            zone=zone,
            start=(page - 1) * page_size,
            limit=page_size,
        )
        if ranking.as_of is not None or capacity:
            ignored = tuple(name for name, value in (("state", state), ("status", status)) if value)
            return _by_capacity(client, ranking, page=page, page_size=page_size, ignored=ignored)
        # Sorting by used % before the first snapshot: ZStack's name order, and the page says why.
        direction, field, no_snapshot = "+", "name", True
    conditions = search_conditions(q=q, state=state, status=status, zone=zone)

    def storages(conditions: list[str] = conditions) -> QueryPage[BackupStorage]:
        return client.query_image_stores(
            conditions=conditions,
            limit=page_size,
            start=(page - 1) * page_size,
            sort=f"{direction}{field}",
            with_count=True,
        )

    try:
        result, zone_page = read_concurrently(storages, client.query_zones)
        zones = zone_page.items
        if not result.total and any(c.startswith("uuid~=") for c in conditions):
            # A hex search that is no UUID's start may still be part of a name: one more call, only then.
            by_name = [c if not c.startswith("uuid~=") else f"name~=%{q.strip()}%" for c in conditions]
            result = storages(by_name)
    except ZStackError as error:
        return StorageListPage(rows=(), total=0, page=page, page_size=page_size, zones=(), error=error)

    rows = _rows(result.items, zones, thresholds.for_storages(s.uuid for s in result.items))
    total = result.total if result.total is not None else len(rows)
    return StorageListPage(
        rows=rows,
        total=total,
        page=page,
        page_size=page_size,
        zones=_sorted_zones(zones),
        no_snapshot=no_snapshot,
    )


def _rows(
    storages: Iterable[BackupStorage], zones: Iterable[Zone], limits: dict[str, Thresholds]
) -> tuple[StorageRow, ...]:
    names = {z.uuid: z.name or z.uuid for z in zones}
    return tuple(
        StorageRow(
            storage=redact(storage),
            zones=tuple(ZoneRef(u, names.get(u, u)) for u in storage.attached_zone_uuids),
            limits=limits.get(storage.uuid),
        )
        for storage in storages
    )


def _sorted_zones(zones: Iterable[Zone]) -> tuple[Zone, ...]:
    return tuple(sorted(zones, key=lambda z: (z.name or z.uuid).lower()))


def _by_capacity(
    client: ZStackClient, ranking: capacity_selectors.Ranking, *, page: int, page_size: int, ignored: tuple[str, ...]
) -> StorageListPage:
    """The page capacity.selectors.ranked_page chose, from ZStack: ONE ``uuid?=a,b,c`` query for its storages
    (none when the page is empty) and ONE zone query, rows kept in the snapshot's order. A storage deleted
    since the snapshot is simply missing from its page; one added since is not ranked until the next."""

    def found() -> tuple[BackupStorage, ...]:
        if not ranking.uuids:
            return ()
        return client.query_image_stores(
            conditions=[query.in_list("uuid", ranking.uuids)], limit=len(ranking.uuids)
        ).items

    try:
        storages_found, zone_page = read_concurrently(found, client.query_zones)
        zones = zone_page.items
    except ZStackError as error:
        return StorageListPage(rows=(), total=0, page=page, page_size=page_size, zones=(), error=error)
    order = {uuid: i for i, uuid in enumerate(ranking.uuids)}
    storages = sorted((s for s in storages_found if s.uuid in order), key=lambda s: order[s.uuid])
    return StorageListPage(
        rows=_rows(storages, zones, ranking.limits),
        total=ranking.total,
        page=page,
        page_size=page_size,
        zones=_sorted_zones(zones),
        by_capacity=True,
        capacity_as_of=ranking.as_of,
        no_snapshot=ranking.as_of is None,
        ignored=ignored,
    )


def storage_detail_soon(
    *, uuid: str, with_details: bool, storage: BackupStorage | None = None, tags: ResourceTags | None = None
) -> Callable[[], StorageCard]:
    """The card's data: its reads start now; call the result, once the request has done its own queries, for
    the card, or ResourceNotFound for an unknown uuid, ZStackError when ZStack can't be read. ``storage`` /
    ``tags``: what a write just got from ZStack (its job's inventory, the tags it re-read), to save those calls."""
    client = get_client()
    # Every read at once (the page costs its slowest read): the storage, every zone (a cloud has few, and
    # asking for all of them does not wait for the storage's zone list) and, for details, both tag lists.
    reads: dict[str, Callable[[], Any]] = {"zones": lambda: {z.uuid: z for z in client.query_zones().items}}
    if storage is None or storage.uuid != uuid:
        reads["storage"] = lambda: client.get_image_store(uuid)
    if with_details and tags is None:
        reads["system"] = lambda: client.get_system_tags(uuid)
        reads["user"] = lambda: client.get_user_tags(uuid)
    waiting = read_soon(*reads.values())

    def card() -> StorageCard:
        got = dict(zip(reads, waiting(), strict=True))
        found = got.get("storage", storage)
        if found is None:  # unreachable: a read was asked for whenever none was given
            raise ResourceNotFound(f"image store {uuid} not found", code="SYS.1003")
        zones = got["zones"]
        if not with_details:
            shown_tags = None
        else:
            shown_tags = tags if tags is not None else ResourceTags(system=got["system"], user=got["user"])
        return StorageCard(
            storage=found if with_details else redact(found),
            zones=tuple(ZoneRef(u, (zones[u].name or u) if u in zones else u) for u in found.attached_zone_uuids),
            tags=shown_tags,
            fetched_at=timezone.now(),
        )

    return card


def storage_for_edit(*, uuid: str) -> tuple[BackupStorage, ResourceTags]:
    """What the edit form shows: the storage and its tags (no zones), read at once. Raises like storage_detail_soon's card."""
    client = get_client()
    storage, system, user = read_concurrently(
        lambda: client.get_image_store(uuid),
        lambda: client.get_system_tags(uuid),
        lambda: client.get_user_tags(uuid),
    )
    return storage, ResourceTags(system=system, user=user)


def storage_get(*, uuid: str) -> BackupStorage:
    """The storage alone (the disable confirmation names it), redacted. Raises like storage_detail_soon's card."""
    return redact(get_client().get_image_store(uuid))


IMAGE_PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class ImagePage(Paged):
    """One page of the images stored on a storage, with their count and the bytes they take (``stored``,
    None when ZStack could not be read: ``error``)."""

    images: tuple[Image, ...]
    total: int
    page: int
    page_size: int
    sort: str
    stored: StoredBytes | None = None
    error: ZStackError | None = None

    @property
    def shown(self) -> int:
        return len(self.images)


def storage_images(
    *, uuid: str, page: int = 1, sort: str = "-actualSize", page_size: int = IMAGE_PAGE_SIZE
) -> ImagePage:
    """What fills a storage (docs/zstack-protocol.md §4.8): one QueryImage page, counted, and the sum of
    every image's actual size. ZStack cannot sum, so the second read pages through the sizes alone; the two
    are read at once, even when the page turns out to hold every image (waiting for the page to know would
    make every larger storage cost two reads one after the other)."""
    return storage_images_soon(uuid=uuid, page=page, sort=sort, page_size=page_size)()


def storage_images_soon(
    *, uuid: str, page: int = 1, sort: str = "-actualSize", page_size: int = IMAGE_PAGE_SIZE
) -> Callable[[], ImagePage]:
    """storage_images' reads started now, beside the card's (the detail page costs its slowest read, not the
    card's and then the images'); call the result for the page."""
    client = get_client()
    wire_sort = sort if sort.startswith("-") else f"+{sort}"  # "+" ascending, sent as %2B (protocol §6.1)
    waiting = read_soon(
        lambda: client.images_on_backup_storage(uuid, limit=page_size, start=(page - 1) * page_size, sort=wire_sort),
        lambda: client.actual_size_on_backup_storage(uuid),
    )

    def images() -> ImagePage:
        try:
            result, stored = waiting()
        except ZStackError as error:
            return ImagePage(images=(), total=0, page=page, page_size=page_size, sort=sort, error=error)
        total = result.total if result.total is not None else len(result.items)
        return ImagePage(images=result.items, total=total, page=page, page_size=page_size, sort=sort, stored=stored)

    return images
