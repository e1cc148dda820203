"""The list's and the images' rows, built in Python (dashboard/storages/table_rows.py), print what the row
templates they replaced printed: the same markup, escaping and labels, in both languages. The templates are
kept here as the oracle and rendered with Django's template language beside the Python rows."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.template import engines
from django.utils import translation

from dashboard.capacity.thresholds import Badge
from dashboard.storages import presenters, selectors, table_rows

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(\"x\")</script> & 'q' {{ y }}"

LIST_ROW = """{% load i18n %}{% translate "Name" as l_name %}{% translate "Capacity used" as l_used %}\
{% translate "Available" as l_available %}{% translate "State" as l_state %}{% translate "Status" as l_status %}\
{% translate "Zones" as l_zones %}{% translate "Last changed" as l_changed %}{% translate "Unknown" as l_unknown %}
        <tr>
          <td data-label="{{ l_name }}" class="cell-name">
            <a class="storage-link" href="{{ row.url }}">{{ row.name }}</a>
            <span class="uuid uuid--short muted" title="{{ row.uuid }}">{{ row.uuid }}</span>
          </td>
          <td data-label="{{ l_used }}" class="num">{% if row.capacity_text %}<div class="capacity">
            <meter class="capacity__meter" min="0" max="100" low="{{ row.meter_low }}" high="{{ row.meter_high }}" \
optimum="0" value="{{ row.meter_value }}" aria-label="{{ l_used }}">{{ used_percent }}%</meter>
            <span class="capacity__text" title="{{ row.capacity_title }}">{{ row.capacity_text }}</span>
          </div>{% else %}<span class="muted">{{ l_unknown }}</span>{% endif %}{% if row.badge %}\
<span class="badge badge--capacity-{{ row.badge.level }}">{{ row.badge.text }}</span>{% endif %}</td>
          <td data-label="{{ l_available }}" class="num"><span title="{{ row.available_title }}">\
{{ row.available_text }}</span></td>
          <td data-label="{{ l_state }}"><span class="badge badge--{{ row.state_tone }}">{{ row.state_label }}</span></td>
          <td data-label="{{ l_status }}"><span class="badge badge--{{ row.status_tone }}">{{ row.status_label }}</span></td>
          <td data-label="{{ l_zones }}">{% if row.zones %}{{ row.zones }}{% else %}<span class="muted">—</span>{% endif %}</td>
          <td data-label="{{ l_changed }}" class="nowrap">{% if row.changed_iso %}<time datetime="{{ row.changed_iso }}">\
{{ row.changed_text }}</time>{% else %}<span class="muted">—</span>{% endif %}</td>
        </tr>
"""

IMAGE_ROW = """{% load i18n %}{% translate "Name" as l_name %}{% translate "Format" as l_format %}\
{% translate "Virtual size" as l_virtual %}{% translate "Actual size" as l_actual %}{% translate "Status" as l_status %}\
{% translate "Created" as l_created %}
        <tr>
          <td data-label="{{ l_name }}">{{ row.name }}<span class="uuid muted">{{ row.uuid }}</span></td>
          <td data-label="{{ l_format }}">{{ row.format }}</td>
          <td data-label="{{ l_virtual }}" class="num"><span title="{{ row.size_title }}">{{ row.size_text }}</span></td>
          <td data-label="{{ l_actual }}" class="num"><span title="{{ row.actual_title }}">{{ row.actual_text }}</span></td>
          <td data-label="{{ l_status }}"><span class="badge badge--{{ row.status_tone }}">{{ row.status_label }}</span></td>
          <td data-label="{{ l_created }}" class="nowrap">{% if row.created_iso %}<time datetime="{{ row.created_iso }}">\
{{ row.created_text }}</time>{% else %}<span class="muted">—</span>{% endif %}</td>
        </tr>
"""


def same_markup(html: str) -> str:
    """Whitespace runs as one space: what a browser makes of the templates' indentation."""
    return re.sub(r"\s+", " ", str(html)).strip()


def oracle(source: str, **context) -> str:
    return same_markup(engines["django"].from_string(source).render(context))


def hostile(view):
    """Every non-empty text of a row made of markup, quotes and template syntax (the badge too): a value the
    rows forgot to escape prints differently from the template's."""
    changes = {
        field.name: f"{HOSTILE} {field.name}"
        for field in dataclasses.fields(view)
        if isinstance(getattr(view, field.name), str) and getattr(view, field.name)
    }
    if getattr(view, "badge", None):
        changes["badge"] = Badge(HOSTILE, HOSTILE)  # type: ignore[arg-type]
    return dataclasses.replace(view, **changes)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_list_rows_print_what_the_row_template_printed(zstack_settings, language):
    page = selectors.storage_list(page_size=100)
    with translation.override(language):
        rows = presenters.list_rows(page)
        for row, view in zip(page.rows, rows, strict=True):
            # Each row as the simulator has it, once more with every optional cell empty, once more hostile.
            bare = dataclasses.replace(view, capacity_text="", badge=None, zones="", changed_iso="")
            assert same_markup(table_rows.storage_rows([view])) == oracle(
                LIST_ROW, row=view, used_percent=row.storage.used_percent
            )
            assert same_markup(table_rows.storage_rows([bare])) == oracle(LIST_ROW, row=bare)
            evil = dataclasses.replace(hostile(view), meter_text=f"{HOSTILE}%")
            assert same_markup(table_rows.storage_rows([evil])) == oracle(LIST_ROW, row=evil, used_percent=HOSTILE)
        assert same_markup(table_rows.storage_rows(rows)) == " ".join(
            same_markup(table_rows.storage_rows([view])) for view in rows
        )
    # The cases covered every branch: a badge, a meter, a zone, a time.
    assert all(any(getattr(view, name) for view in rows) for name in ("badge", "capacity_text", "zones", "changed_iso"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_image_rows_print_what_the_row_template_printed(zstack_settings, uuid, language):
    images = selectors.storage_images(uuid=uuid, page_size=50).images
    with translation.override(language):
        rows = presenters.image_rows(images)
        cases = rows + [dataclasses.replace(row, created_iso="") for row in rows] + [hostile(row) for row in rows]
        for row in cases:
            assert same_markup(table_rows.image_rows([row])) == oracle(IMAGE_ROW, row=row)
    assert len(rows) > 2 and any(row.created_iso for row in rows)


def test_no_rows_print_nothing():
    assert table_rows.storage_rows([]) == "" and table_rows.image_rows([]) == ""
