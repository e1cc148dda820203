"""The rows of the two long tables as HTML, built in Python: the storage list's (presenters.RowView) and the
detail page's images (presenters.ImageRowView).

Why not in the templates: Django's template language spends a few microseconds on every value it prints
(the lookup, localisation, escaping), and a list row prints about thirty. On the development VM of
docs/performance.md the list's 25 rows took about 4 ms of the page that way, and 100 rows four times as much.
``format_html`` escapes every value exactly as the template did and costs a fraction of that per row. Only
the rows moved: the tables around them, their headers and everything else stay in the templates, which say
where their rows come from. tests/test_table_rows.py holds this markup to the row templates it replaced, in
both languages and with hostile names.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .presenters import ImageRowView, RowView

_DASH = mark_safe('<span class="muted">—</span>')  # an unknown value, as the tables have always shown it


def _time(iso: str, text: str) -> SafeString:
    return format_html('<time datetime="{}">{}</time>', iso, text) if iso else _DASH


def _join(rows: Iterable[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((row,) for row in rows))  # safe rows stay as they are


def storage_rows(rows: Iterable[RowView]) -> SafeString:
    """The storage list's <tr> elements. The column labels (the cells' data-label, which narrow screens
    show beside each value) are translated once for the table."""
    labels = {
        "name": _("Name"),
        "used": _("Capacity used"),
        "available": _("Available"),
        "state": _("State"),
        "status": _("Status"),
        "zones": _("Zones"),
        "changed": _("Last changed"),
    }
    unknown = format_html('<span class="muted">{}</span>', _("Unknown"))
    return _join(_storage_row(row, labels, unknown) for row in rows)


def _storage_row(row: RowView, labels: dict[str, str], unknown: SafeString) -> SafeString:
    if row.capacity_text:
        capacity = format_html(
            '<div class="capacity">\n<meter class="capacity__meter" min="0" max="100" low="{}" high="{}" '
            'optimum="0" value="{}" aria-label="{}">{}</meter>\n'
            '<span class="capacity__text" title="{}">{}</span>\n</div>',
            row.meter_low,
            row.meter_high,
            row.meter_value,
            labels["used"],
            row.meter_text,
            row.capacity_title,
            row.capacity_text,
        )
    else:
        capacity = unknown
    badge = (
        format_html('<span class="badge badge--capacity-{}">{}</span>', row.badge.level, row.badge.text)
        if row.badge
        else ""
    )
    return format_html(
        "<tr>\n"
        '<td data-label="{}" class="cell-name">\n<a class="storage-link" href="{}">{}</a>\n'
        '<span class="uuid uuid--short muted" title="{}">{}</span>\n</td>\n'
        '<td data-label="{}" class="num">{}{}</td>\n'
        '<td data-label="{}" class="num"><span title="{}">{}</span></td>\n'
        '<td data-label="{}"><span class="badge badge--{}">{}</span></td>\n'
        '<td data-label="{}"><span class="badge badge--{}">{}</span></td>\n'
        '<td data-label="{}">{}</td>\n'
        '<td data-label="{}" class="nowrap">{}</td>\n'
        "</tr>\n",
        labels["name"],
        row.url,
        row.name,
        row.uuid,
        row.uuid,
        labels["used"],
        capacity,
        badge,
        labels["available"],
        row.available_title,
        row.available_text,
        labels["state"],
        row.state_tone,
        row.state_label,
        labels["status"],
        row.status_tone,
        row.status_label,
        labels["zones"],
        row.zones or _DASH,
        labels["changed"],
        _time(row.changed_iso, row.changed_text),
    )


def image_rows(rows: Iterable[ImageRowView]) -> SafeString:
    """The detail page's images table's <tr> elements, labelled as storage_rows' are."""
    labels = {
        "name": _("Name"),
        "format": _("Format"),
        "virtual": _("Virtual size"),
        "actual": _("Actual size"),
        "status": _("Status"),
        "created": _("Created"),
    }
    return _join(_image_row(row, labels) for row in rows)


def _image_row(row: ImageRowView, labels: dict[str, str]) -> SafeString:
    return format_html(
        "<tr>\n"
        '<td data-label="{}">{}<span class="uuid muted">{}</span></td>\n'
        '<td data-label="{}">{}</td>\n'
        '<td data-label="{}" class="num"><span title="{}">{}</span></td>\n'
        '<td data-label="{}" class="num"><span title="{}">{}</span></td>\n'
        '<td data-label="{}"><span class="badge badge--{}">{}</span></td>\n'
        '<td data-label="{}" class="nowrap">{}</td>\n'
        "</tr>\n",
        labels["name"],
        row.name,
        row.uuid,
        labels["format"],
        row.format,
        labels["virtual"],
        row.size_title,
        row.size_text,
        labels["actual"],
        row.actual_title,
        row.actual_text,
        labels["status"],
        row.status_tone,
        row.status_label,
        labels["created"],
        _time(row.created_iso, row.created_text),
    )
