"""Capacity badges, thresholds and the history chart, for the storage list and detail pages (and /capacity/):
``{% load capacity_tags %}{% capacity_badge storage.used_percent limits %}``, ``{% storage_thresholds uuid as
limits %}``, ``{% capacity_thresholds uuid %}`` and ``{% capacity_history uuid %}``."""

from __future__ import annotations

from django import template

from dashboard.accounts.roles import CHANGE_STORAGE
from dashboard.capacity import chart, selectors, thresholds

register = template.Library()


@register.inclusion_tag("capacity/_badge.html")
def capacity_badge(percent, limits=None):
    """A badge with words (never colour alone) when the storage is at or above its warning or critical
    threshold. ``limits``: its effective thresholds.Thresholds (the list's rows carry them); None: the defaults."""
    effective = limits if isinstance(limits, thresholds.Thresholds) else thresholds.defaults()
    return {"level": effective.level(percent), "warning": effective.warning, "critical": effective.critical}


@register.simple_tag
def storage_thresholds(uuid=None, limits=None):
    """``limits`` when given, else the storage's effective thresholds (one query), else the defaults."""
    if isinstance(limits, thresholds.Thresholds):
        return limits
    return thresholds.for_storage(uuid) if uuid else thresholds.defaults()


@register.inclusion_tag("capacity/thresholds.html#thresholds-section", takes_context=True)
def capacity_thresholds(context, uuid, limits=None):
    """The detail page's thresholds section: the effective pair (``limits`` when the page has them already)
    for everyone, the change and reset buttons for those who may change storages."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "uuid": uuid,
        "effective": storage_thresholds(uuid, limits),
        "defaults": thresholds.defaults(),
        "can_change": bool(user and user.has_perm(CHANGE_STORAGE)),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("capacity/_history.html")
def capacity_history(uuid, found=None):
    """``found``: the storage's selectors.history when the page has it already (else read here)."""
    found = found if isinstance(found, selectors.History) else selectors.history(uuid)
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
