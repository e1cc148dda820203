"""Capacity badges, thresholds and the history chart, for the detail page and /capacity/:
``{% load capacity_tags %}{% capacity_badge percent limits %}``, ``{% capacity_thresholds uuid limits %}`` and
``{% capacity_history uuid trend %}``. The storage list and the card take their badge ready-made from their
presenters (thresholds.badge)."""

from __future__ import annotations

from django import template

from dashboard.accounts.roles import CHANGE_STORAGE
from dashboard.capacity import chart, selectors, thresholds

register = template.Library()


@register.inclusion_tag("capacity/_badge.html")
def capacity_badge(percent, limits=None):
    """A badge with words (never colour alone) when the storage is at or above its warning or critical
    threshold. ``limits``: its effective thresholds.Thresholds; None: the defaults. The list's rows carry the
    same badge ready-made (thresholds.badge), without a template per row."""
    effective = limits if isinstance(limits, thresholds.Thresholds) else thresholds.defaults()
    return {"badge": thresholds.badge(percent, effective)}


def _effective(uuid=None, limits=None) -> thresholds.Thresholds:
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
        "effective": _effective(uuid, limits),
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
