"""Reads for the capacity pages: the fleet overview (from the latest complete snapshot run, or one live
read when there is none yet) and one storage's history with its forecast."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from dashboard.zstack.errors import ZStackError

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

    @property
    def available(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.used / self.total, 1) if self.total else None

    @property
    def level(self):
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
    for row in rows:
        view.overall.add(row)
        for zone in row.zone_uuids:  # a storage in two zones counts in both zones (not twice overall)
            zones.setdefault(zone, Totals(uuid=zone)).add(row)
        level = row.level
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


def history(uuid: str, *, days: int = 30) -> History:
    rows = tuple(
        CapacitySnapshot.objects.filter(storage_uuid=uuid, taken_at__gte=timezone.now() - timedelta(days=days))
        .order_by("taken_at")
        .values_list("taken_at", "used_bytes", "total_bytes")
    )
    total = rows[-1][2] if rows else 0
    return History(points=rows, forecast=fc.forecast([(t, u) for t, u, _ in rows], total))
