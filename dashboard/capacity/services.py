"""Writes of the capacity app: the history (one snapshot run, downsampling as points age, the worker's
"snapshot if due") and a storage's own thresholds (set, reset; audited)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from dashboard.accounts.actor import Actor
from dashboard.audit import log as audit
from dashboard.audit.log import Action, FieldChange, Outcome

from . import source
from .models import CapacityRun, CapacitySnapshot, Resolution, ThresholdOverride

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


# --- per-storage thresholds ---------------------------------------------------------------------
# Set and reset by admins (the views check the role; a refusal is recorded by storages.services.write_refused,
# like every refused write). Each change is audited like a storage write: an attempt row, then the outcome row
# with each changed threshold's before and after (a recorded None means "the default"). The override lives in
# our database only, so there is no ZStack call and no background job: the outcome follows at once.


class ThresholdsError(Exception):
    """The change could not be made or could not be recorded; nothing was changed."""


def _threshold_changes(before: ThresholdOverride | None, warning: float | None, critical: float | None):
    old_warning = before.warning_percent if before is not None else None
    old_critical = before.critical_percent if before is not None else None
    return [
        FieldChange(field=name, before=old, after=new)
        for name, old, new in (("warningPercent", old_warning, warning), ("criticalPercent", old_critical, critical))
        if old != new
    ]


def set_thresholds(*, actor: Actor, uuid: str, warning: float, critical: float, storage_name: str = "") -> bool:
    """Give the storage its own thresholds (0 < warning < critical <= 100: the form checks it, the database
    constraint enforces it). Returns False when they were already so (nothing recorded). Raises
    ThresholdsError when the audit trail or the database refuses (nothing changed then)."""
    if not 0 < warning < critical <= 100:
        raise ValueError("thresholds must satisfy 0 < warning < critical <= 100")
    return _change(actor, uuid, storage_name, warning, critical)


def reset_thresholds(*, actor: Actor, uuid: str, storage_name: str = "") -> bool:
    """Back to the global defaults (the override is deleted). False when the storage had none."""
    return _change(actor, uuid, storage_name, None, None)


def _change(actor: Actor, uuid: str, storage_name: str, warning: float | None, critical: float | None) -> bool:
    before = ThresholdOverride.objects.filter(storage_uuid=uuid).first()
    changes = _threshold_changes(before, warning, critical)
    if not changes:
        return False
    row = dict(actor=actor, action=Action.THRESHOLDS, storage_uuid=uuid, storage_name=storage_name, changes=changes)
    try:
        attempt = audit.record(**row, outcome=Outcome.ATTEMPTED)
    except audit.AuditUnavailable as error:
        raise ThresholdsError(str(error)) from error
    try:
        with transaction.atomic():
            if warning is None or critical is None:
                ThresholdOverride.objects.filter(storage_uuid=uuid).delete()
            else:
                ThresholdOverride.objects.update_or_create(
                    storage_uuid=uuid,
                    defaults={
                        "warning_percent": warning,
                        "critical_percent": critical,
                        "updated_at": timezone.now(),
                        "updated_by_id": actor.user_id,
                        "updated_by_username": actor.username or "",
                    },
                )
    except DatabaseError as error:
        audit.record_safely(**row, outcome=Outcome.FAILED, attempt=attempt, error_message=type(error).__name__)
        raise ThresholdsError("The thresholds could not be saved.") from error
    audit.record_safely(**row, outcome=Outcome.SUCCEEDED, attempt=attempt)
    return True


def thresholds_invalid(*, actor: Actor, uuid: str, errors: Mapping[str, Any], storage_name: str = "") -> None:
    """A threshold form rejected by validation: recorded (like an invalid storage edit), nothing changed.
    ``errors``: the form's errors, stored as codes and parameters so the log reads in each reader's language."""
    audit.record_invalid(
        actor=actor, action=Action.THRESHOLDS, storage_uuid=uuid, errors=errors, storage_name=storage_name
    )
