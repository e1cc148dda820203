"""What the storage list (and the detail page's images table) shows, computed once per row in Python
(issue 14): the templates print these values instead of running includes, translation tags and filters for every row, which cost about 0.5 ms a row.
Also the list's clean URLs: no empty parameter and no default, in links, in the pager and after a
plain GET form (docs/performance.md, README "The storage list")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from dashboard.capacity import thresholds
from dashboard.capacity.thresholds import Badge, Thresholds
from dashboard.formats import moments, sizes
from dashboard.zstack.inventory import Image, Zone

from .forms import DEFAULT_PAGE_SIZE, DEFAULT_SORT, StorageFilterForm
from .selectors import StorageCard, StorageListPage, StorageRow
from .templatetags.storage_tags import ZSTACK_LABELS, tone

_PLACEHOLDER = "0" * 32
SHORT_UUID = 8  # characters of a UUID the list shows; the search takes them back (selectors.UUID_PREFIX_MIN)
# Values a clean URL leaves out: they are what the list uses when the parameter is missing.
DEFAULTS = {"page": "1", "sort": DEFAULT_SORT, "page_size": str(DEFAULT_PAGE_SIZE)}


@dataclass(frozen=True, slots=True)
class RowView:
    uuid: str
    short_uuid: str
    name: str  # the UUID when the storage has no name
    url: str
    meter_text: str  # the percentage used, in the reader's decimals ("—" when unknown)
    meter_value: str  # None-safe, a dot decimal for the <meter> attribute
    badge: Badge | None  # at or above its own warning or critical threshold
    meter_low: str  # its effective thresholds, as the meter's low and high
    meter_high: str
    capacity_text: str  # "" when the total is unknown
    capacity_title: str
    available_text: str
    available_title: str
    state: str
    state_label: str
    state_tone: str
    status_label: str
    status_tone: str
    zones: str  # "" when attached to none
    changed_iso: str  # ISO 8601 UTC, for <time datetime>
    changed_text: str  # the console's one date format (dashboard/formats/moments.py)


class _Formats:
    """The reader's sizes, labels and sentences, looked up once per page rather than once per value (Django's
    number_format, date_format and gettext each cost a few microseconds a call, three dozen calls a row)."""

    def __init__(self) -> None:
        self.sizes = sizes.for_reader()
        self.size, self.exact = self.sizes.size, self.sizes.exact
        self.decimal = self.sizes.decimal
        self.labels = {value: str(label) for value, label in ZSTACK_LABELS.items()}
        self.unknown = str(_("Unknown"))
        self.capacity_text = _("%(used)s of %(total)s (%(percent)s%%)")
        self.capacity_title = _("%(used)s of %(total)s")
        self.default_limits = thresholds.defaults()
        self.absolute = moments.absolute_writer()

    def label(self, value: str | None) -> str:
        return self.labels.get(value, value) if value else self.unknown

    def percent(self, value: float) -> str:
        return str(value).replace(".", self.decimal)

    def moment(self, value: datetime | None) -> tuple[str, str]:
        """ISO 8601 UTC for a ``datetime`` attribute and the console's one date format; ("", "") when unknown."""
        return (moments.iso_utc(value), self.absolute(value)) if value else ("", "")


def _meter(percent: float | None, limits: Thresholds) -> tuple[str, str, str]:
    """A <meter>'s value, low and high: dot decimals whatever the language (they are HTML attributes)."""
    return "0" if percent is None else f"{percent:.1f}", f"{limits.warning:.1f}", f"{limits.critical:.1f}"


def row_view(row: StorageRow, detail_url: str, f: _Formats) -> RowView:
    s = row.storage
    capacity_text = capacity_title = ""
    if s.total_capacity:
        used = s.used_percent
        capacity_text = f.capacity_text % {
            "used": f.size(s.used_capacity),
            "total": f.size(s.total_capacity),
            "percent": f.percent(used) if used is not None else "—",
        }
        capacity_title = f.capacity_title % {"used": f.exact(s.used_capacity), "total": f.exact(s.total_capacity)}
    limits = row.limits or f.default_limits
    meter_value, meter_low, meter_high = _meter(s.used_percent, limits)
    changed_iso, changed_text = f.moment(s.last_op_date)
    return RowView(
        uuid=s.uuid,
        short_uuid=s.uuid[:SHORT_UUID],
        name=s.name or s.uuid,
        url=detail_url.replace(_PLACEHOLDER, s.uuid),
        meter_text=f"{f.percent(s.used_percent)}%" if s.used_percent is not None else "—",
        meter_value=meter_value,
        badge=thresholds.badge(s.used_percent, limits),
        meter_low=meter_low,
        meter_high=meter_high,
        capacity_text=capacity_text,
        capacity_title=capacity_title,
        available_text=f.size(s.available_capacity),
        available_title=f.exact(s.available_capacity),
        state=s.state or "",
        state_label=f.label(s.state),
        state_tone=tone(s.state),
        status_label=f.label(s.status),
        status_tone=tone(s.status),
        zones=", ".join(zone.name for zone in row.zones),
        changed_iso=changed_iso,
        changed_text=changed_text,
    )


def list_rows(page: StorageListPage) -> list[RowView]:
    # One reverse() and one look-up of the formats for the page.
    detail_url = reverse("storages:detail", args=[_PLACEHOLDER])
    formats = _Formats()
    return [row_view(row, detail_url, formats) for row in page.rows]


@dataclass(frozen=True, slots=True)
class ImageRowView:
    """One row of the detail page's images table, as the list's rows: computed once, printed as they are."""

    uuid: str
    name: str  # the UUID when the image has no name
    format: str
    size_text: str
    size_title: str
    actual_text: str
    actual_title: str
    status_label: str
    status_tone: str
    created_iso: str  # "" when ZStack did not say
    created_text: str


def image_rows(images: tuple[Image, ...]) -> list[ImageRowView]:
    f = _Formats()
    return [_image_row(image, f) for image in images]


def _image_row(image: Image, f: _Formats) -> ImageRowView:
    created_iso, created_text = f.moment(image.create_date)
    return ImageRowView(
        uuid=image.uuid,
        name=image.name or image.uuid,
        format=image.format or "—",
        size_text=f.size(image.size),
        size_title=f.exact(image.size),
        actual_text=f.size(image.actual_size),
        actual_title=f.exact(image.actual_size),
        status_label=f.label(image.status),
        status_tone=tone(image.status),
        created_iso=created_iso,
        created_text=created_text,
    )


@dataclass(frozen=True, slots=True)
class CardView:
    """What the storage card shows beyond the inventory's own text fields, computed once: the card is the
    fragment every open detail page polls, so its values skip the two dozen filters, three includes and two
    inclusion tags the template ran for them."""

    state_label: str
    state_tone: str
    status_label: str
    status_tone: str
    badge: Badge | None  # at or above its own warning or critical threshold
    has_total: bool  # False: ZStack reports no total, the meter says "Unknown"
    meter_value: str  # dot decimals for the <meter> attributes
    meter_low: str
    meter_high: str
    used_percent: str  # "—" when unknown
    total_text: str
    total_title: str
    used_text: str
    used_title: str
    available_text: str
    available_title: str
    zones: str  # "" when attached to none
    created_iso: str  # "" when ZStack did not say
    created_text: str
    changed_iso: str  # "" when ZStack did not say
    changed_text: str
    fetched_iso: str


def card_view(card: StorageCard, limits: Thresholds) -> CardView:
    s, f = card.storage, _Formats()
    meter_value, meter_low, meter_high = _meter(s.used_percent, limits)
    created_iso, created_text = f.moment(s.create_date)
    changed_iso, changed_text = f.moment(s.last_op_date)
    return CardView(
        state_label=f.label(s.state),
        state_tone=tone(s.state),
        status_label=f.label(s.status),
        status_tone=tone(s.status),
        badge=thresholds.badge(s.used_percent, limits),
        has_total=bool(s.total_capacity),
        meter_value=meter_value,
        meter_low=meter_low,
        meter_high=meter_high,
        used_percent="—" if s.used_percent is None else f"{f.percent(s.used_percent)}%",
        total_text=f.size(s.total_capacity),
        total_title=f.exact(s.total_capacity),
        used_text=f.size(s.used_capacity),
        used_title=f.exact(s.used_capacity),
        available_text=f.size(s.available_capacity),
        available_title=f.exact(s.available_capacity),
        zones=", ".join(zone.name for zone in card.zones),
        created_iso=created_iso,
        created_text=created_text,
        changed_iso=changed_iso,
        changed_text=changed_text,
        fetched_iso=moments.iso_utc(card.fetched_at),
    )


@dataclass(frozen=True, slots=True)
class SelectOption:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class SelectView:
    """One of the list's filter selects, printed by the template: Django's Select widget renders a template
    per option, 2.5 ms for the form's two dozen options on a slow VM, five times what one loop costs."""

    name: str
    id: str
    label: str
    options: tuple[SelectOption, ...]


def filter_selects(form: StorageFilterForm, zones: tuple[Zone, ...]) -> tuple[SelectView, ...]:
    """The filter form's selects in their order on the page; the zone's choices are the cloud's zones."""

    def select(name: str, choices: Iterable[tuple[object, object]] | None = None) -> SelectView:
        field = form[name]
        if choices is None:
            choices = field.field.choices  # type: ignore[attr-defined]  # a ChoiceField's
        chosen = "" if field.value() is None else str(field.value())
        options = tuple(SelectOption(str(value), str(label), str(value) == chosen) for value, label in choices)
        return SelectView(name, field.id_for_label, str(field.label), options)

    zones_offered = [("", _("Any zone")), *((zone.uuid, zone.name or zone.uuid) for zone in zones)]
    order = ("state", "status", "zone", "capacity", "sort", "page_size")
    return tuple(select(name, zones_offered if name == "zone" else None) for name in order)


# --- clean URLs ----------------------------------------------------------------------------------


def clean_query(params, **changes) -> str:
    """``?…`` for the list with ``changes`` applied (None removes a parameter), without empty parameters or
    defaults; "" when nothing is left. Keeps the order of ``params`` (a QueryDict or a dict)."""
    pairs: list[tuple[str, str]] = []
    keys = list(dict.fromkeys([*params.keys(), *changes.keys()]))
    for key in keys:
        if key in changes:
            values = [] if changes[key] is None else [str(changes[key])]
        else:
            values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        pairs.extend((key, value) for value in values if value.strip() and DEFAULTS.get(key) != value)
    return f"?{urlencode(pairs)}" if pairs else ""


@dataclass(frozen=True, slots=True)
class PagerLink:
    number: int | None  # None: the numbers left out ("…")
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class Pager:
    first: str | None  # None on the first page (no link to where one is)
    previous: str | None
    next: str | None
    last: str | None
    links: tuple[PagerLink, ...]


def pager(page: StorageListPage, params, base: str) -> Pager | None:
    """First, previous, the numbers around the current page, next, last; None for a single page."""
    if page.num_pages <= 1:
        return None

    def url(number: int) -> str:
        return base + clean_query(params, page=number)

    current = page.page
    return Pager(
        first=url(1) if current > 1 else None,
        previous=url(current - 1) if page.has_previous else None,
        next=url(current + 1) if page.has_next else None,
        last=url(page.num_pages) if current < page.num_pages else None,
        links=tuple(
            PagerLink(number, url(number) if number else "", number == current) for number in page.page_window()
        ),
    )
