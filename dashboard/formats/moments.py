"""The one way a moment is written on screen (issue 13): a date-and-time format per language, with a zone
nobody can misread, and natural relative times where a page wants them.

Every template reaches it through the built-in ``when`` filter and ``moment`` tag (settings.TEMPLATES
"builtins", so no ``{% load %}``):

    {{ value|when }}              2026-12-01 08:57 UTC+08:00   (zh-hans: 2026年12月1日 08:57 UTC+08:00)
    {{ value|when:"ago" }}        5 minutes ago                (zh-hans: 5 分钟之前)
    {{ value|when:"date" }}       2026-12-01                   (a day, e.g. a chart's tick: no time, no zone)
    {{ value|when:"iso" }}        2026-12-01T00:57:55Z         (ISO 8601 UTC, for datetime="" attributes)
    {% moment value %}            <time datetime="…Z">2026-12-01 08:57 UTC+08:00</time>
    {% moment value "ago" %}      <time datetime="…Z" title="2026-12-01 08:57 UTC+08:00">5 minutes ago</time>

Times are shown in the reader's zone (dashboard.storages.timezones activates the browser's), always with
its UTC offset: a zone abbreviation such as "CST" names China, Central US and Cuba alike. Minutes are always
written ("08:00", never "8 a.m."). Exports don't come here: they keep ISO 8601 UTC (audit.chain.timestamp_text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import pgettext

register = template.Library()

STYLES = ("full", "ago", "date", "iso")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def zone_text(value: dt.datetime) -> str:
    """The UTC offset of an aware local time: "UTC+08:00", "UTC-05:30", "UTC" for zero."""
    offset = value.utcoffset() or dt.timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def absolute(value: dt.datetime) -> str:
    """Date, hours and minutes and the UTC offset, in the active language and zone."""
    return absolute_writer()(value)


def absolute_writer() -> Callable[[dt.datetime], str]:
    """``absolute`` for the many moments of one page (a table's rows): the language's pattern and the reader's
    zone are looked up once, not once a row."""
    zone = timezone.get_current_timezone()
    # Translators: a date and time in Django's date-format letters (Y year, m month, d day, H 24-hour, i minutes).
    # Keep the minutes (i) and a 24-hour clock (H); the UTC offset is appended after it.
    pattern = pgettext("date and time format", "Y-m-d H:i")

    def write(value: dt.datetime) -> str:
        local = timezone.localtime(_aware(value), zone)
        return f"{date_format(local, pattern)} {zone_text(local)}"

    return write


def day(value: dt.date | dt.datetime) -> str:
    # Translators: a date alone in Django's date-format letters (Y year, m month, d day).
    pattern = pgettext("date format", "Y-m-d")
    if isinstance(value, dt.datetime):
        value = timezone.localtime(_aware(value))
    return date_format(value, pattern)


def iso_utc(value: dt.datetime) -> str:
    """ISO 8601 in UTC with a Z: what machines read (the datetime attribute, exports)."""
    return _aware(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative(value: dt.datetime) -> str:
    return str(naturaltime(_aware(value)))


@register.filter(name="when")
def when(value: object, style: str = "full") -> str:
    """``value`` written as ``style`` (module docstring); "" for no value, unknown objects as they are."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        if style == "ago":
            return relative(value)
        if style == "date":
            return day(value)
        if style == "iso":
            return iso_utc(value)
        return absolute(value)
    if isinstance(value, dt.date):
        return value.isoformat() if style == "iso" else day(value)
    return str(value)


@register.simple_tag(name="moment")
def moment(value: object, style: str = "full") -> str:
    """A ``<time>`` element: machine-readable UTC in ``datetime``, the absolute time as a tooltip when the
    text is relative."""
    if not isinstance(value, dt.datetime):
        return when(value, style)
    if style == "ago":
        return format_html('<time datetime="{}" title="{}">{}</time>', iso_utc(value), absolute(value), relative(value))
    return format_html('<time datetime="{}">{}</time>', iso_utc(value), when(value, style))
