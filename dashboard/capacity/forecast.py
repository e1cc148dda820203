"""When will a storage be full? A pure module (no Django): an ordinary least-squares line through used bytes
over time on the recent points, extended to the total.

- fewer than MIN_POINTS points: "not enough history yet" (status TOO_SHORT);
- a slope at or below zero (flat or shrinking usage), or too small to fill the storage within
  MAX_DAYS: no forecast (status NONE) — nothing to warn about;
- otherwise "full in about N days" (status FULL_IN), with R² of the fit: at or above SURE_R2 we say
  "fairly sure", below it "uncertain" (noisy usage makes the line a weak guide).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_POINTS = 7
WINDOW = timedelta(days=14)
SURE_R2 = 0.8
MAX_DAYS = 3650  # beyond ten years a forecast says nothing useful
DAY_SECONDS = 86400.0


class Status(enum.StrEnum):
    TOO_SHORT = "too_short"
    NONE = "none"
    FULL_IN = "full_in"


@dataclass(frozen=True, slots=True)
class Forecast:
    status: Status
    points: int
    days: float | None = None  # FULL_IN only: days from the last point until used reaches total
    r_squared: float | None = None
    bytes_per_day: float | None = None

    @property
    def sure(self) -> bool:
        return self.r_squared is not None and self.r_squared >= SURE_R2

    @property
    def whole_days(self) -> int | None:
        return None if self.days is None else max(0, math.ceil(self.days))


def forecast(points: Sequence[tuple[datetime, int]], total: int, *, window: timedelta = WINDOW) -> Forecast:
    """``points``: (taken_at, used bytes), any order; ``total``: the storage's size now."""
    if not points:
        return Forecast(Status.TOO_SHORT, 0)
    latest = max(t for t, _ in points)
    recent = sorted((t, u) for t, u in points if t >= latest - window)
    n = len(recent)
    if n < MIN_POINTS:
        return Forecast(Status.TOO_SHORT, n)
    xs = [(t - recent[0][0]).total_seconds() / DAY_SECONDS for t, _ in recent]
    ys = [float(u) for _, u in recent]
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:  # every point at the same instant: no trend to fit
        return Forecast(Status.TOO_SHORT, n)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx  # bytes per day
    intercept = mean_y - slope * mean_x
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
    if slope <= 0 or total <= 0:
        return Forecast(Status.NONE, n, r_squared=r2, bytes_per_day=slope)
    # From the fitted value at the last point (less jumpy than the last raw point).
    used_now = intercept + slope * xs[-1]
    days = max(0.0, (total - used_now) / slope)
    if days > MAX_DAYS:
        return Forecast(Status.NONE, n, r_squared=r2, bytes_per_day=slope)
    return Forecast(Status.FULL_IN, n, days=days, r_squared=max(0.0, r2), bytes_per_day=slope)
