"""Byte sizes as the reader writes numbers: ``1.5 GiB`` for a glance, ``1,610,612,736 bytes`` for a tooltip.

One implementation for the ``binary_size`` and ``exact_bytes`` template filters and for the presenters that
compute a whole page of rows at once (dashboard/storages/presenters.py). The reader's separators and the
translated units are looked up once per language, not once per value: Django's number_format and gettext
cost a few microseconds a call, and a list page formats a hundred sizes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.formats import get_format
from django.utils.translation import get_language, ngettext, pgettext_lazy

UNITS = (
    pgettext_lazy("byte unit", "B"),
    pgettext_lazy("byte unit", "KiB"),
    pgettext_lazy("byte unit", "MiB"),
    pgettext_lazy("byte unit", "GiB"),
    pgettext_lazy("byte unit", "TiB"),
    pgettext_lazy("byte unit", "PiB"),
    pgettext_lazy("byte unit", "EiB"),
)


@dataclass(frozen=True, slots=True)
class Sizes:
    decimal: str
    thousand: str
    units: tuple[str, ...]
    byte_one: str  # the console's two languages have at most the forms "one" and "other"
    byte_other: str

    def size(self, value: float | None) -> str:
        """1610612736 -> "1.5 GiB": one decimal past bytes, cut rather than rounded (as Django's number_format
        cuts a float's decimals), so 1.9999 GiB never reads as "2.0 GiB"."""
        if value is None:
            return "—"
        size, unit = float(value), 0
        while abs(size) >= 1024 and unit < len(self.units) - 1:
            size /= 1024
            unit += 1
        whole, _, decimals = str(size).partition(".")  # below 1024 here: never in exponent notation
        number = whole if unit == 0 else f"{whole}{self.decimal}{decimals[:1]}"
        return f"{number} {self.units[unit]}"

    def exact(self, value: int | None) -> str:
        """1073741824 -> "1,073,741,824 bytes"; "" for no value."""
        if value is None:
            return ""
        grouped = f"{value:,}".replace(",", self.thousand)
        return (self.byte_one if value == 1 else self.byte_other) % {"count": grouped}


def for_reader() -> Sizes:
    """The active language's sizes."""
    return _for_language(get_language())


@functools.cache
def _for_language(language: str | None) -> Sizes:
    return Sizes(
        decimal=str(get_format("DECIMAL_SEPARATOR")),
        thousand=str(get_format("THOUSAND_SEPARATOR", use_l10n=True)),
        units=tuple(str(unit) for unit in UNITS),
        byte_one=ngettext("%(count)s byte", "%(count)s bytes", 1),
        byte_other=ngettext("%(count)s byte", "%(count)s bytes", 2),
    )


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: object) -> None:
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "USE_THOUSAND_SEPARATOR", "FORMAT_MODULE_PATH"):
        _for_language.cache_clear()
