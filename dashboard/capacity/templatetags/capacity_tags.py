"""Capacity badges and the history chart, for the storage list and detail pages (and /capacity/):
``{% load capacity_tags %}{% capacity_badge storage.used_percent %}`` and ``{% capacity_history uuid %}``."""

from __future__ import annotations

from django import template

from dashboard.capacity import chart, selectors, thresholds

register = template.Library()


@register.inclusion_tag("capacity/_badge.html")
def capacity_badge(percent):
    """A badge with words (never colour alone) when the storage is above the warning or critical threshold."""
    return {
        "level": thresholds.level(percent),
        "warning": thresholds.warning_percent(),
        "critical": thresholds.critical_percent(),
    }


@register.inclusion_tag("capacity/_history.html")
def capacity_history(uuid):
    found = selectors.history(uuid)
    last = found.points[-1] if found.points else None
    return {
        "uuid": uuid,
        "history": found,
        "chart": chart.build(found.points),
        "forecast": found.forecast,
        "first": found.points[0] if found.points else None,
        "last": last,
        "table": found.points[-1 :: -max(1, len(found.points) // 6)][:7],
    }
