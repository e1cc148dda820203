"""Writes to the capacity history: one snapshot run, downsampling as points age, and the worker's
"snapshot if due"."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import source
from .models import CapacityRun, CapacitySnapshot, Resolution

logger = logging.getLogger("dashboard.capacity")

# Tiers (models.Resolution): a point older than the first age moves to the next tier, keeping one point
# per bucket. The representative kept is the LAST snapshot run in each bucket (the newest reading of that
# hour or day: "used at the end of the hour/day"); the others are deleted.
TIERS = (
    (Resolution.FIVE_MINUTES, timedelta(days=2), Resolution.HOURLY, 3600),
    (Resolution.HOURLY, timedelta(days=90), Resolution.DAILY, 86400),
)
DELETE_CHUNK = 500


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    taken_at: datetime
    storages: int
    downsampled: int


def snapshot_rows(storages: Iterable, taken_at: datetime) -> list[CapacitySnapshot]:
    rows = []
    for s in storages:
        if s.total_capacity is None or s.available_capacity is None:
            continue  # ZStack did not report capacity: no point rather than a wrong one
        rows.append(
            CapacitySnapshot(
                storage_uuid=s.uuid,
                storage_name=(s.name or "")[:255],
                zone_uuids=list(s.attached_zone_uuids),
                taken_at=taken_at,
                used_bytes=s.used_capacity or 0,
                total_bytes=s.total_capacity,
                resolution=Resolution.FIVE_MINUTES,
            )
        )
    return rows


def take_snapshot(
    *, page_size: int = source.PAGE_SIZE, now: datetime | None = None, run: CapacityRun | None = None
) -> SnapshotResult:
    """Record every storage's capacity now: one bulk insert per ZStack page (memory stays one page), then
    downsample. Raises ZStackError if ZStack fails; the partial run is removed first, so readers never take
    a half-read fleet for the latest."""
    taken_at = now or timezone.now()
    run = run or CapacityRun.objects.create(taken_at=taken_at)
    count = 0
    try:
        for page in source.storage_pages(page_size):
            rows = snapshot_rows(page, run.taken_at)
            CapacitySnapshot.objects.bulk_create(rows, batch_size=page_size)
            count += len(rows)
    except BaseException:
        CapacitySnapshot.objects.filter(taken_at=run.taken_at).delete()
        run.delete()
        raise
    run.finished_at, run.storages = timezone.now(), count
    run.save(update_fields=["finished_at", "storages"])
    return SnapshotResult(taken_at=run.taken_at, storages=count, downsampled=downsample(now=taken_at))


def downsample(*, now: datetime | None = None) -> int:
    """Thin aged points to one per bucket (see TIERS); returns how many rows were deleted. Works on the
    distinct snapshot times (a few hundred), never loads the rows themselves."""
    now = now or timezone.now()
    deleted = 0
    for tier, age, next_tier, bucket_seconds in TIERS:
        aged = CapacitySnapshot.objects.filter(resolution=tier, taken_at__lt=now - age)
        times = sorted(set(aged.values_list("taken_at", flat=True).distinct()))
        keep: dict[int, datetime] = {}
        for t in times:
            keep[int(t.timestamp()) // bucket_seconds] = t  # sorted: the last one per bucket wins
        kept_set = set(keep.values())
        drop = [t for t in times if t not in kept_set]
        with transaction.atomic():
            for i in range(0, len(drop), DELETE_CHUNK):
                deleted += aged.filter(taken_at__in=drop[i : i + DELETE_CHUNK]).delete()[0]
            kept = list(keep.values())
            for i in range(0, len(kept), DELETE_CHUNK):
                aged.filter(taken_at__in=kept[i : i + DELETE_CHUNK]).update(resolution=next_tier)
    # Run markers matter only for "latest" and for "is one due": keep those of the 5-minute tier's age.
    CapacityRun.objects.filter(taken_at__lt=now - TIERS[0][1]).delete()
    return deleted


def snapshot_minutes() -> float:
    return float(getattr(settings, "CAPACITY_SNAPSHOT_MINUTES", 5))


def snapshot_if_due(*, now: datetime | None = None) -> SnapshotResult | None:
    """The background worker's periodic snapshot: None (and no ZStack call) when a run younger than
    CAPACITY_SNAPSHOT_MINUTES exists, finished or still running, so several workers don't multiply them.
    The check and the claim happen in one transaction (SQLite serialises it; on PostgreSQL the unique
    taken_at of a run makes a rare double claim harmless: two runs minutes apart at worst)."""
    now = now or timezone.now()
    with transaction.atomic():
        if CapacityRun.objects.filter(taken_at__gt=now - timedelta(minutes=snapshot_minutes())).exists():
            return None
        run = CapacityRun.objects.create(taken_at=now)
    return take_snapshot(now=now, run=run)
