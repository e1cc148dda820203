"""The one shape of an error on its way to a page, and the one place a page's HTTP status is decided.

A ZStack error (dashboard.zstack.errors), a service error or a part of a write that did not take
effect becomes a ``ShownError`` here and nowhere else; templates render it with
``storages/_zstack_error.html`` and messages with ``message_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from dashboard.zstack.errors import ZStackError

from . import wording
from .services import SubmissionBusy
from .submissions import Part, PartState

# Statuses of a page that shows an error. htmx 2 swaps only 2xx answers, so a fragment is always 200
# and shows its error itself (``response_status``).
UNAVAILABLE = 503  # ZStack (or the audit trail) could not be read or written: try again later
BAD_GATEWAY = 502  # ZStack answered and refused or failed what was asked
UNPROCESSABLE = 422  # the input itself was refused (by the form, or by ZStack: SYS.1007)
GATEWAY_TIMEOUT = 504  # ZStack may still complete the change: the outcome is unknown
CONFLICT = 409  # the storage changed since the form was loaded
INVALID_ARGUMENT = "SYS.1007"


@dataclass(frozen=True, slots=True)
class ShownError:
    """What a person is told about one failure. ``title`` may be empty (an item of a list);
    ``unconfirmed``: ZStack may still complete the change; ``status``: the page's HTTP status."""

    message: str
    title: str = ""
    code: str = ""
    correlation_id: str = ""
    unconfirmed: bool = False
    status: int = BAD_GATEWAY


def load_failure(error: ZStackError, title: str = "") -> ShownError:
    """ZStack could not be read for a page."""
    return ShownError(wording.error_message(error), title=title, code=error.code, status=UNAVAILABLE)


def write_failure(error: Exception, *, on_card: bool = False) -> ShownError:
    """A write stopped before any job was sent: ZStack unreachable or refusing, or the audit trail down."""
    title = _("ZStack did not make the change") if on_card else _("ZStack did not save the change")
    if isinstance(error, ZStackError):
        return ShownError(
            wording.error_message(error),
            title=title,
            code=error.code,
            correlation_id=error.job_uuid or "",
            status=BAD_GATEWAY,
        )
    if isinstance(error, SubmissionBusy):
        return ShownError(wording.submission_busy(), title=title, status=CONFLICT)
    return ShownError(wording.audit_unavailable(), title=title, status=UNAVAILABLE)


def expired_button() -> ShownError:
    return ShownError(wording.expired_button(), title=_("ZStack did not make the change"), status=UNPROCESSABLE)


def part_failure(part: Part) -> ShownError:
    """A part of a write that did not take effect (an item of the card's or the form's warnings)."""
    unconfirmed = part.state == PartState.UNKNOWN
    return ShownError(
        wording.part_warning(part),
        code=part.error_code,
        correlation_id=part.job or "",
        unconfirmed=unconfirmed,
        status=GATEWAY_TIMEOUT if unconfirmed else BAD_GATEWAY,
    )


def refusal_status(failures: list[ShownError]) -> int:
    """A partly failed write: 504 when ZStack may still complete a part; 422 when it refused the input
    itself (SYS.1007, an invalid argument, e.g. a system tag no pattern accepts); else 502."""
    if any(failure.unconfirmed for failure in failures):
        return GATEWAY_TIMEOUT
    return UNPROCESSABLE if all(failure.code == INVALID_ARGUMENT for failure in failures) else BAD_GATEWAY


def response_status(request: Any, status: int = 200) -> int:
    """The HTTP status of a rendered answer: ``status`` for a page, 200 for anything htmx asked for
    (htmx 2 swaps only 2xx answers: the fragment shows the error itself)."""
    return 200 if getattr(request, "htmx", None) else status


def message_text(error: ShownError) -> str:
    """One line for django.contrib.messages (a plain form post redirects, so no alert block)."""
    text = error.message
    if error.code:
        text = f"{error.code}: {text}"
    if error.correlation_id:
        text += " " + wording.correlation_suffix(error.correlation_id)
    return text
