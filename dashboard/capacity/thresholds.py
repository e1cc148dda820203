"""Global warning / critical thresholds (settings CAPACITY_WARNING_PERCENT, CAPACITY_CRITICAL_PERCENT,
defaults 80 and 90). Per-storage overrides are not built yet (issue 12)."""

from __future__ import annotations

import enum

from django.conf import settings


class Level(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


def warning_percent() -> float:
    return float(getattr(settings, "CAPACITY_WARNING_PERCENT", 80))


def critical_percent() -> float:
    return float(getattr(settings, "CAPACITY_CRITICAL_PERCENT", 90))


def level(percent: float | None) -> Level | None:
    """None when the percentage is unknown (a storage reporting no total)."""
    if percent is None:
        return None
    if percent >= critical_percent():
        return Level.CRITICAL
    if percent >= warning_percent():
        return Level.WARNING
    return Level.OK
