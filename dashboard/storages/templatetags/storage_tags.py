"""Display helpers for storages: binary units, ZStack enum labels, badge styles."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from dashboard.audit.labels import FIELD_LABELS  # the one wording of the API fields' labels
from dashboard.formats import sizes

register = template.Library()

ZSTACK_LABELS = {
    "Enabled": _("Enabled"),
    "Disabled": _("Disabled"),
    "Connecting": _("Connecting"),
    "Connected": _("Connected"),
    "Disconnected": _("Disconnected"),
    # ImageStatus (docs/zstack-protocol.md §4.8)
    "Creating": _("Creating"),
    "Downloading": _("Downloading"),
    "Ready": _("Ready"),
    "Error": _("Error"),
    "Deleted": _("Deleted"),
}
# Badge tone by ZStack value; the text is always shown too (status is never colour alone).
TONES = {
    "Enabled": "ok",
    "Connected": "ok",
    "Connecting": "busy",
    "Disabled": "muted",
    "Disconnected": "bad",
    "Ready": "ok",
    "Creating": "busy",
    "Downloading": "busy",
    "Error": "bad",
    "Deleted": "muted",
}


@register.filter
def binary_size(value) -> str:
    """1610612736 -> "1.5 GiB" (localised number, binary units; dashboard/formats/sizes.py)."""
    if value is None or value == "":
        return "—"
    return sizes.for_reader().size(float(value))


@register.filter
def exact_bytes(value) -> str:
    """1073741824 -> "1,073,741,824 bytes", for a title attribute."""
    if value is None or value == "":
        return ""
    return sizes.for_reader().exact(int(value))


@register.filter
def tone(value) -> str:
    return TONES.get(value or "", "muted")


@register.filter
def field_label(name) -> str:
    return str(FIELD_LABELS.get(name, name))


@register.filter
def tag_lines(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return str(value)


@register.simple_tag
def submission_input(uuid: str, action: str):
    """The one-time token a write form carries (submissions.py): a second POST of the same form is shown
    the first one's result instead of writing again."""
    from django.utils.html import format_html

    from dashboard.storages.submissions import new_token

    return format_html('<input type="hidden" name="submission" value="{}">', new_token(uuid, action))
