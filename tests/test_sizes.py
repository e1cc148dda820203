"""dashboard/formats/sizes.py: the one byte-size formatting of the filters and the presenters, held to what
Django's own number formatting and humanize write, in both languages, and to the cut (never rounded) decimal."""

from __future__ import annotations

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import ngettext

from dashboard.formats import sizes

VALUES = [0, 1, 2, 1023, 1024, 1536, 1_288_490_189, 1_610_612_736, 2**31 - 1, 123_456_789_012_345, 5 * 1024**5, 1024**7]


def django_size(value: int) -> str:
    size, unit = float(value), 0
    while abs(size) >= 1024 and unit < len(sizes.UNITS) - 1:
        size /= 1024
        unit += 1
    return f"{number_format(size, decimal_pos=0 if unit == 0 else 1, use_l10n=True)} {sizes.UNITS[unit]}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_sizes_read_as_djangos_number_formatting_writes_them(language):
    with translation.override(language):
        reader = sizes.for_reader()
        for value in VALUES:
            assert reader.size(value) == django_size(value)
            assert reader.exact(value) == ngettext("%(count)s byte", "%(count)s bytes", value) % {
                "count": intcomma(value)
            }
    assert (reader.size(None), reader.exact(None)) == ("—", "")


def test_a_size_is_cut_not_rounded_and_each_language_has_its_own_words():
    with translation.override("en"):
        assert sizes.for_reader().size(2 * 1024**3 - 1) == "1.9 GiB"  # never "2.0 GiB" for a byte short of 2
        english = sizes.for_reader().exact(2)
    with translation.override("zh-hans"):
        assert sizes.for_reader().exact(2) != english  # looked up per language, not once for the process
