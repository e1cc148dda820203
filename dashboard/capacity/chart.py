"""Geometry of the server-rendered capacity chart (templates/capacity/_history.html): used bytes over time
as an SVG polyline in a fixed viewBox, with the total as a line and a few labelled ticks. Pure: no Django."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28  # room for the axis labels


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    y: float
    value: object  # a datetime (x axis) or a percentage (y axis); the template formats it


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    line: str  # "x,y x,y …" for <polyline points>
    area: str  # the same, closed along the bottom, for the filled area
    total_y: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM


def build(points: Sequence[tuple[datetime, int, int]]) -> Chart | None:
    """``points``: (taken_at, used, total), oldest first. None below two points (nothing to draw)."""
    if len(points) < 2:
        return None
    t0, t1 = points[0][0], points[-1][0]
    span = (t1 - t0).total_seconds() or 1.0
    top_value = max(max(total for _, _, total in points), max(used for _, used, _ in points), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: datetime) -> float:
        return round(LEFT + plot_w * (t - t0).total_seconds() / span, 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (1 - v / top_value), 1)

    coords = [f"{x(t)},{y(u)}" for t, u, _ in points]
    bottom = HEIGHT - BOTTOM
    area = " ".join([f"{x(t0)},{bottom}", *coords, f"{x(t1)},{bottom}"])
    x_ticks = tuple(Tick(x(t0 + (t1 - t0) * i / 3), bottom, t0 + (t1 - t0) * i / 3) for i in range(4))
    total = points[-1][2]
    y_ticks = tuple(Tick(LEFT, y(total * p / 100), p) for p in (0, 50, 100)) if total else ()
    return Chart(WIDTH, HEIGHT, " ".join(coords), area, y(total) if total else float(TOP), x_ticks, y_ticks)
