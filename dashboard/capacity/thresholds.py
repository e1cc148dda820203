"""Warning / critical thresholds: the global defaults (settings CAPACITY_WARNING_PERCENT,
CAPACITY_CRITICAL_PERCENT, 80 and 90) and each storage's effective pair — its own override
(models.ThresholdOverride, set by an admin through services.set_thresholds) or else the defaults.

Everything that judges a used % (the card's and the list's badges and meter, /capacity/'s counts, the list's
"above warning / critical" filter) asks here, so a storage is judged the same way on every page. The reads
cost one query for any number of storages (``for_storages``)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from .models import ThresholdOverride


class Level(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


def warning_percent() -> float:
    return float(getattr(settings, "CAPACITY_WARNING_PERCENT", 80))


def critical_percent() -> float:
    return float(getattr(settings, "CAPACITY_CRITICAL_PERCENT", 90))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """One storage's effective thresholds. ``overridden``: its own, set by ``updated_by`` at ``updated_at``."""

    warning: float
    critical: float
    overridden: bool = False
    updated_at: datetime | None = None
    updated_by: str = ""

    def level(self, percent: float | None) -> Level | None:
        """None when the percentage is unknown (a storage reporting no total). A level is reached AT its
        threshold (90 % used is critical when critical is 90)."""
        if percent is None:
            return None
        if percent >= self.critical:
            return Level.CRITICAL
        if percent >= self.warning:
            return Level.WARNING
        return Level.OK


@dataclass(frozen=True, slots=True)
class Badge:
    """What a storage at or above a threshold shows beside its capacity: the level and its words."""

    level: Level
    text: str


def badge(percent: float | None, effective: Thresholds) -> Badge | None:
    """The badge for ``percent`` against ``effective``; None below the warning threshold or when unknown."""
    found = effective.level(percent)
    if found == Level.CRITICAL:
        return Badge(
            found, _("Critical: %(percent)s%% or more used") % {"percent": floatformat(effective.critical, -1)}
        )
    if found == Level.WARNING:
        return Badge(found, _("Warning: %(percent)s%% or more used") % {"percent": floatformat(effective.warning, -1)})
    return None


def defaults() -> Thresholds:
    return Thresholds(warning=warning_percent(), critical=critical_percent())


def level(percent: float | None, effective: Thresholds | None = None) -> Level | None:
    return (effective or defaults()).level(percent)


def _of(row) -> Thresholds:
    return Thresholds(
        warning=row.warning_percent,
        critical=row.critical_percent,
        overridden=True,
        updated_at=row.updated_at,
        updated_by=row.updated_by_username,
    )


# The card asks on every refresh: written out, as Django would compile the queryset anew each time
# (docs/performance.md, "Queries written out"; tests/test_written_queries.py holds it to the queryset). Only the
# table's name is formatted in; every value is a parameter.
_FOR_STORAGE_SQL = f"SELECT * FROM {ThresholdOverride._meta.db_table} WHERE storage_uuid = %s"  # noqa: S608


def for_storage(uuid: str) -> Thresholds:
    row = next(iter(ThresholdOverride.objects.raw(_FOR_STORAGE_SQL, [uuid])), None)  # storage_uuid is unique
    return _of(row) if row is not None else defaults()


def for_storages(uuids: Iterable[str]) -> dict[str, Thresholds]:
    """Every given storage's effective thresholds, in one query."""
    wanted = list(dict.fromkeys(uuids))
    base = defaults()
    found = {row.storage_uuid: _of(row) for row in ThresholdOverride.objects.filter(storage_uuid__in=wanted)}
    return {uuid: found.get(uuid, base) for uuid in wanted}


def overrides() -> dict[str, Thresholds]:
    """Every override there is (a few, set by hand): for pages that judge the whole fleet."""
    return {row.storage_uuid: _of(row) for row in ThresholdOverride.objects.all()}
