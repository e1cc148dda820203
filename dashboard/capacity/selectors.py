"""Reads for the capacity pages: the fleet overview (from the latest complete snapshot run, or one live
read when there is none yet) and one storage's history with its forecast."""

from __future__ import annotations

import dataclasses
import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from dashboard.zstack.errors import ResourceNotFound, ZStackError

from . import forecast as fc
from . import source, thresholds
from .models import CapacityRun, CapacitySnapshot

TOP = 10
# The overview forecasts every storage: it samples at most this many snapshot times of the window (about
# two a day), so 10,000 storages cost ~280,000 small rows, streamed. The detail page uses every point.
OVERVIEW_SAMPLE_TIMES = 28


@dataclass(frozen=True, slots=True)
class Row:
    uuid: str
    name: str
    zone_uuids: tuple[str, ...]
    used: int
    total: int
    limits: thresholds.Thresholds | None = None  # its own thresholds, where it has them (the badge's)

    @property
    def available(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.used / self.total, 1) if self.total else None

    @property
    def level(self):
        """By the global defaults; pages judging a storage use its effective thresholds (_aggregate)."""
        return thresholds.level(self.percent)


@dataclass
class Totals:
    name: str = ""
    uuid: str = ""
    used: int = 0
    total: int = 0
    storages: int = 0

    @property
    def available(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.used / self.total, 1) if self.total else None

    def add(self, row: Row) -> None:
        self.used += row.used
        self.total += row.total
        self.storages += 1


@dataclass(frozen=True, slots=True)
class Soonest:
    row: Row
    forecast: fc.Forecast


@dataclass
class Overview:
    live: bool  # True: no snapshot yet, read from ZStack just now
    as_of: datetime | None
    overall: Totals = field(default_factory=Totals)
    zones: list[Totals] = field(default_factory=list)
    warning: int = 0
    critical: int = 0
    fullest: list[Row] = field(default_factory=list)
    soonest: list[Soonest] = field(default_factory=list)
    error: ZStackError | None = None
    overridden: int = 0  # storages with their own thresholds (counted by those, not the defaults)


def latest_run() -> CapacityRun | None:
    return CapacityRun.objects.filter(finished_at__isnull=False).order_by("-taken_at").first()


def _snapshot_rows(run: CapacityRun) -> Iterator[Row]:
    fields = ("storage_uuid", "storage_name", "zone_uuids", "used_bytes", "total_bytes")
    for uuid, name, zones, used, total in (
        CapacitySnapshot.objects.filter(taken_at=run.taken_at).values_list(*fields).iterator(chunk_size=2000)
    ):
        yield Row(uuid, name, tuple(zones or ()), used, total)


def _live_rows() -> Iterator[Row]:
    for s in source.live_storages():
        if s.total_capacity is not None and s.available_capacity is not None:
            yield Row(s.uuid, s.name or "", s.attached_zone_uuids, s.used_capacity or 0, s.total_capacity)


def _aggregate(view: Overview, rows: Iterable[Row]) -> dict[str, Row]:
    zones: dict[str, Totals] = {}
    fullest: list[tuple[float, str, Row]] = []
    by_uuid: dict[str, Row] = {}
    own, base = thresholds.overrides(), thresholds.defaults()  # a few rows, set by hand: one query
    view.overridden = len(own)
    for row in rows:
        view.overall.add(row)
        for zone in row.zone_uuids:  # a storage in two zones counts in both zones (not twice overall)
            zones.setdefault(zone, Totals(uuid=zone)).add(row)
        if row.uuid in own:
            row = dataclasses.replace(row, limits=own[row.uuid])
        level = (row.limits or base).level(row.percent)
        view.warning += level is thresholds.Level.WARNING
        view.critical += level is thresholds.Level.CRITICAL
        if row.percent is not None:
            heapq.heappush(fullest, (row.percent, row.uuid, row))
            if len(fullest) > TOP:
                heapq.heappop(fullest)
        by_uuid[row.uuid] = row
    view.fullest = [r for _, _, r in sorted(fullest, key=lambda e: (-e[0], e[1]))]
    try:
        names = source.zone_names()
    except ZStackError:
        names = {}
    for totals in zones.values():
        totals.name = names.get(totals.uuid, totals.uuid)
    view.zones = sorted(zones.values(), key=lambda z: z.name.lower())
    return by_uuid


def overview() -> Overview:
    run = latest_run()
    if run is None:
        view = Overview(live=True, as_of=timezone.now())
        try:
            _aggregate(view, _live_rows())
        except ZStackError as error:
            return Overview(live=True, as_of=None, error=error)
        return view
    view = Overview(live=False, as_of=run.taken_at)
    rows = _aggregate(view, _snapshot_rows(run))
    view.soonest = soonest_to_fill(run, rows)
    return view


def soonest_to_fill(run: CapacityRun, rows: dict[str, Row], limit: int = TOP) -> list[Soonest]:
    """The storages forecast to fill first, from sampled history (OVERVIEW_SAMPLE_TIMES), streamed by storage."""
    since = run.taken_at - fc.WINDOW
    times = sorted(
        set(
            CapacitySnapshot.objects.filter(taken_at__gte=since, taken_at__lte=run.taken_at)
            .values_list("taken_at", flat=True)
            .distinct()
        )
    )
    if len(times) > OVERVIEW_SAMPLE_TIMES:  # evenly spread in time: the first snapshot of each slice
        span = (times[-1] - times[0]).total_seconds() / OVERVIEW_SAMPLE_TIMES or 1.0
        slices: dict[int, datetime] = {}
        for t in times:
            slices.setdefault(int((t - times[0]).total_seconds() // span), t)
        times = sorted({*slices.values(), times[-1]})
    best: list[tuple[float, str]] = []
    forecasts: dict[str, fc.Forecast] = {}

    def consider(uuid: str, points: list[tuple[datetime, int]]) -> None:
        row = rows.get(uuid)
        if row is None:
            return
        result = fc.forecast(points, row.total)
        if result.status is fc.Status.FULL_IN and result.days is not None:
            forecasts[uuid] = result
            heapq.heappush(best, (-result.days, uuid))
            if len(best) > limit:
                forecasts.pop(heapq.heappop(best)[1], None)

    current: str | None = None
    points: list[tuple[datetime, int]] = []
    qs = (
        CapacitySnapshot.objects.filter(taken_at__in=times)
        .order_by("storage_uuid", "taken_at")
        .values_list("storage_uuid", "taken_at", "used_bytes")
    )
    for uuid, taken_at, used in qs.iterator(chunk_size=5000):
        if uuid != current:
            if current is not None:
                consider(current, points)
            current, points = uuid, []
        points.append((taken_at, used))
    if current is not None:
        consider(current, points)
    ranked = sorted(((-d, u) for d, u in best))
    return [Soonest(rows[u], forecasts[u]) for _, u in ranked]


@dataclass(frozen=True, slots=True)
class History:
    points: tuple[tuple[datetime, int, int], ...]  # (taken_at, used, total), oldest first
    forecast: fc.Forecast


# The detail page's 30 days, written out: about 1,250 points on a real page (two days of 5-minute points, then
# hourly ones), which took 2.5 ms through the ORM's values_list and 1.1 ms through a cursor here
# (docs/performance.md, "Queries written out"; tests/test_written_queries.py holds it to the queryset). Only the
# table's name is formatted in; every value is a parameter.
_HISTORY_SQL = (
    f"SELECT taken_at, used_bytes, total_bytes FROM {CapacitySnapshot._meta.db_table}"  # noqa: S608
    " WHERE storage_uuid = %s AND taken_at >= %s ORDER BY taken_at"
)


def history(uuid: str, *, days: int = 30) -> History:
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(days=days))
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL, [uuid, since])
        found = cursor.fetchall()
    # SQLite gives the stored UTC time back without its zone, PostgreSQL with it.
    rows = tuple((at if at.tzinfo else at.replace(tzinfo=UTC), used, total) for at, used, total in found)
    total = rows[-1][2] if rows else 0
    return History(points=rows, forecast=fc.forecast([(t, u) for t, u, _ in rows], total))


def storage_name(uuid: str) -> str:
    """Raises ResourceNotFound for a storage ZStack does not know, ZStackError when unreachable (then: "")."""
    try:
        return source.storage_name(uuid)
    except ResourceNotFound:
        raise
    except ZStackError:
        return ""


# --- the storage list's "above warning / critical" filter and "used %" sort --------------------------
# ZStack can neither sort nor filter by a ratio (docs/zstack-protocol.md §6.2), so the list ranks storages by
# the latest complete snapshot run here, and asks ZStack only for the one page of uuids it shows.


@dataclass(frozen=True, slots=True)
class Ranking:
    uuids: tuple[str, ...]  # the requested page's storages, in order
    total: int  # how many matched in all
    as_of: datetime | None  # the snapshot run ranked; None: no snapshot yet (nothing ranked)
    limits: dict[str, thresholds.Thresholds] = field(default_factory=dict)  # the page's effective thresholds


def _like(text: str) -> re.Pattern[str]:
    """ZStack's name search is SQL LIKE ``%text%`` (case-insensitive; ``%`` any characters, ``_`` one): the
    same match on the snapshot's names, so the search means the same with and without the used % filter."""
    pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in text)
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


def ranked_page(
    *,
    level: str = "",
    descending: bool = True,
    q: str = "",
    zone: str = "",
    start: int = 0,
    limit: int = 25,
) -> Ranking:
    """One page of storage uuids from the latest snapshot run, ordered by used % (``descending``: fullest
    first; storages reporting no total last; ties by name, then uuid), keeping only those at or above their
    own ``level`` threshold ("warning": warning or critical; "critical"; "": all), whose name matches ``q`` (or
    whose uuid is ``q``, a full uuid) and that are in ``zone``, as the snapshot saw them. The run's rows are
    streamed (10,000 storages: a few tens of milliseconds), the overrides read in one query."""
    run = latest_run()
    if run is None:
        return Ranking(uuids=(), total=0, as_of=None)
    own, base = thresholds.overrides(), thresholds.defaults()
    compact = q.strip().replace("-", "")
    uuid_only = compact.lower() if re.fullmatch(r"[0-9a-fA-F]{32}", compact) else ""
    name_match = _like(q.strip()) if q.strip() and not uuid_only else None
    wanted = {
        "warning": (thresholds.Level.WARNING, thresholds.Level.CRITICAL),
        "critical": (thresholds.Level.CRITICAL,),
    }
    keep = wanted.get(level)
    ranked: list[tuple[float, str, str]] = []
    fields = ("storage_uuid", "storage_name", "zone_uuids", "used_bytes", "total_bytes")
    rows = CapacitySnapshot.objects.filter(taken_at=run.taken_at)
    if uuid_only:
        rows = rows.filter(storage_uuid=uuid_only)
    for uuid, name, zones, used, total in rows.values_list(*fields).iterator(chunk_size=2000):
        if zone and zone not in (zones or ()):
            continue
        if name_match is not None and not name_match.search(name or ""):
            continue
        percent = 100.0 * used / total if total else None
        if keep is not None and own.get(uuid, base).level(percent) not in keep:
            continue
        # One sort key for both directions: unknown % sorts last either way.
        if percent is None:
            key = -1.0
        else:
            clamped = min(max(percent, 0.0), 100.0)
            key = (clamped if descending else 100.0 - clamped) + 1.0
        ranked.append((-key, (name or "").lower(), uuid))
    ranked.sort()
    page = tuple(uuid for _, _, uuid in ranked[start : start + limit])
    return Ranking(uuids=page, total=len(ranked), as_of=run.taken_at, limits={u: own.get(u, base) for u in page})
