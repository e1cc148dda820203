"""Capacity history. One CapacitySnapshot per storage per snapshot run (manage.py snapshot_capacity);
CapacityRun marks a run, so pages read the latest *complete* set and workers don't multiply runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Resolution(models.TextChoices):
    """The tier a point belongs to as it ages (services.downsample): 5-minute points for 2 days,
    hourly for 90 days, daily beyond."""

    FIVE_MINUTES = "5m", "5 minutes"
    HOURLY = "1h", "hourly"
    DAILY = "1d", "daily"


class CapacityRun(models.Model):
    taken_at = models.DateTimeField(unique=True)
    finished_at = models.DateTimeField(null=True, blank=True)  # None while running (or after a crash)
    storages = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"capacity run {self.taken_at:%Y-%m-%d %H:%M} ({self.storages})"


class CapacitySnapshot(models.Model):
    storage_uuid = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=255, blank=True)  # as it was named then
    zone_uuids = models.JSONField(default=list)
    taken_at = models.DateTimeField()
    used_bytes = models.BigIntegerField()
    total_bytes = models.BigIntegerField()
    resolution = models.CharField(max_length=2, choices=Resolution.choices, default=Resolution.FIVE_MINUTES)

    class Meta:
        indexes = [
            # One storage's time series, and its latest point (ORDER BY taken_at DESC LIMIT 1).
            models.Index(fields=["storage_uuid", "taken_at"], name="capacity_storage_time"),
            # The latest run's rows for every storage, and downsampling by tier and age.
            models.Index(fields=["taken_at"], name="capacity_time"),
            models.Index(fields=["resolution", "taken_at"], name="capacity_tier_time"),
        ]

    def __str__(self) -> str:
        return f"{self.storage_uuid} at {self.taken_at:%Y-%m-%d %H:%M}: {self.used_bytes}/{self.total_bytes} B"

    @property
    def used_percent(self) -> float | None:
        return round(100.0 * self.used_bytes / self.total_bytes, 1) if self.total_bytes else None

    @property
    def available_bytes(self) -> int:
        return max(self.total_bytes - self.used_bytes, 0)


class ThresholdOverride(models.Model):
    """One storage's own warning / critical thresholds, set by an admin (services.set_thresholds); without a
    row the storage uses the global settings (thresholds.py). Keyed by the ZStack uuid: storages live in ZStack,
    so there is no foreign key to follow, and a deleted storage's row is harmless."""

    storage_uuid = models.CharField(max_length=64, unique=True)
    warning_percent = models.FloatField()
    critical_percent = models.FloatField()
    updated_at = models.DateTimeField()
    # Who set it: the user (kept if the user is deleted, by name) — the audit trail has the full story.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_username = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warning_percent__gt=0)
                & models.Q(critical_percent__gt=models.F("warning_percent"))
                & models.Q(critical_percent__lte=100),
                name="capacity_threshold_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.storage_uuid}: warning {self.warning_percent}%, critical {self.critical_percent}%"
