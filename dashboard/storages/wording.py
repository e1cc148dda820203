"""What the console says to a person about ZStack and about a write: those sentences, translated.

dashboard.zstack speaks English and knows no Django; the translation happens here, at the edge. The
client's sentences are marked for ``makemessages`` where they are written (dashboard/zstack/errors.py)
and translated by ``error_message``, the one place that turns an error into words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext as _

from dashboard.audit.log import Action
from dashboard.audit.messages import describe
from dashboard.zstack.errors import ZStackError

from .submissions import Part, PartState
from .templatetags.storage_tags import binary_size, field_label

if TYPE_CHECKING:
    from .services import WriteProgress


def error_message(error: BaseException) -> str:
    """A sentence for a person: ZStack's own words when it gave any, else our translated sentence."""
    if isinstance(error, ZStackError):
        return error.zstack_words() or gettext(error.default_message)
    return str(error)


# --- what a write did ------------------------------------------------------------------------------


def write_notice(progress: WriteProgress) -> str | None:
    """The card's one-line notice after a write, or None when its warnings (or error) say it all."""
    if progress.submission is None:
        return _("Nothing changed, so nothing was sent to ZStack.")
    if progress.running:
        return _("ZStack is still working on it. This page shows the result when it ends; you may leave it.")
    if not progress.changed:
        return None
    if progress.failed_parts:
        fields = ", ".join(dict.fromkeys(str(field_label(c["field"])) for p in progress.done_parts for c in p.changes))
        return _("Saved: %(fields)s.") % {"fields": fields} if fields else None
    if progress.submission.action == Action.RECLAIM:
        freed = progress.freed_bytes
        if freed is None:  # the job succeeded without saying how much (docs/zstack-protocol.md §9)
            return _("Space reclaimed.")
        return _("Freed %(size)s.") % {"size": binary_size(freed)}
    notices: dict[str, str] = {
        Action.UPDATE: _("Saved."),
        Action.RECONNECT: _("Reconnected."),
        Action.ENABLE: _("Enabled."),
        Action.DISABLE: _("Disabled."),
    }
    return notices.get(progress.submission.action, _("Done."))


def replayed_notice(notice: str) -> str:
    return _("This was already submitted; nothing was sent again.") + " " + notice


def part_error(part: Part) -> str:
    """A part's error in the reader's language: ZStack's own words, or our sentence for its code."""
    return str(describe(part.error_code, part.error_message) or "")


def part_warning(part: Part) -> str:
    """A sentence for a part of a write that did not take effect (the card's warnings list)."""
    what = part_label(part)
    if part.state == PartState.UNKNOWN:
        return _("%(what)s was not confirmed by ZStack in time: %(error)s") % {
            "what": what,
            "error": part_error(part),
        }
    return _("%(what)s did not take effect: %(error)s") % {"what": what, "error": part_error(part)}


def part_label(part: Part) -> str:
    if part.kind == "tag-add":
        return _("Adding the tag “%(tag)s”") % {"tag": part.args.get("tag", "")}
    if part.kind == "tag-remove":
        return _("Removing the tag “%(tag)s”") % {"tag": part.args.get("tag", "")}
    if part.kind == "update":
        return _("The change of %(fields)s") % {"fields": ", ".join(str(field_label(c["field"])) for c in part.changes)}
    return {
        "reconnect": _("The reconnect"),
        "enable": _("Enabling"),
        "disable": _("Disabling"),
        "reclaim": _("Reclaiming space"),
    }.get(part.kind, part.kind)


def part_field_error(part: Part) -> str:
    """The error shown under a form field that a failed part held."""
    if part.state == PartState.UNKNOWN:
        return _("ZStack did not confirm this change: %(error)s") % {"error": part_error(part)}
    return _("ZStack did not save this: %(error)s") % {"error": part_error(part)}


def expired_button() -> str:
    return _("This button had expired, so nothing was sent. The card is up to date now: try again.")


def submission_busy() -> str:
    return _(
        "This form is being sent by another request right now, so this one sent nothing. "
        "Reload the storage in a moment to see the result."
    )


def audit_unavailable() -> str:
    return _("The change was not made: the audit trail could not record it. Try again later.")


def correlation_suffix(correlation_id: str) -> str:
    return _("(correlation id %(id)s)") % {"id": correlation_id}
