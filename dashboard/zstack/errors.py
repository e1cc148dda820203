"""One small error family for everything that can go wrong talking to ZStack (docs/zstack-protocol.md §7).

Each error carries ZStack's ``code``, ``description``, ``details`` and ``cause`` chain when there is
one, the HTTP status and the X-Job-UUID of the write it belongs to. Classes are named by what the
caller can do next. ``user_message`` is a sentence fit to show a person, in English: this package
knows no Django, so the console translates at its edge (dashboard/storages/wording.py,
``error_message``), from ``zstack_words()`` and ``default_message``.
"""

from __future__ import annotations

from typing import Any


def _(message: str) -> str:
    """Marks a sentence for `makemessages` without translating it (Django's gettext_noop, without Django)."""
    return message


class ZStackError(Exception):
    """Base class. ``code`` is ZStack's (``SYS.1007``) or one of ours (``sdk.*``, as ZStack's SDKs use)."""

    default_code = "sdk.1000"
    default_message = _("ZStack reported an error.")

    def __init__(
        self,
        details: str = "",
        *,
        code: str | None = None,
        description: str | None = None,
        cause: ZStackError | None = None,
        http_status: int | None = None,
        job_uuid: str | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.description = description or ""
        self.details = details or ""
        self.cause = cause
        self.http_status = http_status
        self.job_uuid = job_uuid
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [self.code]
        if self.description:
            parts.append(self.description)
        if self.details and self.details != self.description:
            parts.append(self.details)
        return ": ".join(parts)

    # Whether ZStack's own words describe this error better than our sentence (not when they are a
    # transport's or a lost answer's technical detail).
    zstack_words_first = True

    def zstack_words(self) -> str:
        """ZStack's own explanation, when it gave one and it is fit to show; else ""."""
        return (self.details or self.description) if self.zstack_words_first else ""

    @property
    def user_message(self) -> str:
        """What to tell a person, untranslated: ZStack's own words when it gave any, else our sentence."""
        return self.zstack_words() or self.default_message

    @property
    def causes(self) -> list[ZStackError]:
        """The cause chain, outermost first (not including self)."""
        chain: list[ZStackError] = []
        current = self.cause
        while current is not None and len(chain) < 20:
            chain.append(current)
            current = current.cause
        return chain

    @classmethod
    def from_error_json(cls, error: dict[str, Any], **kwargs: Any) -> ZStackError:
        """Build the right subclass from ZStack's ErrorCode JSON (``{"code":…, "details":…, "cause":{…}}``)."""
        code = str(error.get("code") or "")
        cause_json = error.get("cause")
        cause = cls.from_error_json(cause_json) if isinstance(cause_json, dict) else None
        subclass = _BY_CODE.get(code, OperationFailed)
        return subclass(
            str(error.get("details") or ""),
            code=code or None,
            description=str(error.get("description") or ""),
            cause=cause,
            **kwargs,
        )


class ZStackUnavailable(ZStackError):
    """ZStack could not be reached (refused, reset, DNS) or says it is not ready. Try again later."""

    default_code = "sdk.unreachable"
    default_message = _("ZStack could not be reached. Check that the management node is running.")
    zstack_words_first = False


class OutcomeUnknown(ZStackError):
    """A write was sent but its answer never arrived (the connection dropped after sending, no answer in
    time, the job vanished): ZStack may or may not have made the change. Re-read the resource before
    trying again; never resend blindly."""

    default_code = "sdk.outcome-unknown"
    default_message = _(
        "The connection to ZStack was lost after the request was sent; the change may still "
        "complete. Reload to see the current state."
    )
    zstack_words_first = False


class ZStackTimeout(OutcomeUnknown):
    """No answer in time: an HTTP timeout, or an async job past its deadline. The outcome is unknown."""

    default_code = "sdk.1001"
    default_message = _(
        "ZStack did not answer in time; the change may still complete. Reload to see the current state."
    )


class ProtocolError(ZStackError):
    """ZStack answered something this client does not understand (bad JSON, unexpected status, no route)."""

    default_code = "sdk.1002"
    default_message = _("ZStack gave an unexpected answer.")


class AuthenticationFailed(ZStackError):
    """ID.1000: the console's ZStack account or password is wrong. An operator must fix the configuration."""

    default_code = "ID.1000"
    default_message = _("The console could not log in to ZStack; check ZSTACK_ACCOUNT and ZSTACK_PASSWORD.")


class SessionExpired(ZStackError):
    """ID.1001: the session is invalid. The client logs in again once by itself; callers rarely see this."""

    default_code = "ID.1001"


class PermissionDenied(ZStackError):
    """ID.1002: the ZStack account may not do this."""

    default_code = "ID.1002"


class ResourceNotFound(ZStackError):
    """SYS.1003 or an empty query for a uuid: the resource does not exist (any more)."""

    default_code = "SYS.1003"
    default_message = _("The resource does not exist in ZStack.")


class InvalidArgument(ZStackError):
    """SYS.1007 or a 400 from the REST layer: the request was rejected; fix the input."""

    default_code = "SYS.1007"


class OperationFailed(ZStackError):
    """Any other ZStack error code (SYS.1006 and friends): the operation failed; ZStack says why."""

    default_code = "SYS.1006"


class JobLost(OutcomeUnknown):
    """The async job expired or vanished (404 on poll): the outcome is unknown; re-read the resource."""

    default_code = "sdk.job-lost"
    default_message = _(
        "ZStack lost track of the operation; the change may still complete. Reload to see the current state."
    )


_BY_CODE: dict[str, type[ZStackError]] = {
    "ID.1000": AuthenticationFailed,
    "ID.1001": SessionExpired,
    "ID.1002": PermissionDenied,
    "SYS.1001": ZStackTimeout,
    "SYS.1003": ResourceNotFound,
    "SYS.1007": InvalidArgument,
    "SYS.1010": ZStackUnavailable,
}
