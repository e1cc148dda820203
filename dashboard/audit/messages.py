"""The console's own messages in the trail: stored as a code and parameters, worded in the reader's language.

A sentence stored in the language of whoever made the change mixed languages in one log (issue 13). So the
console stores no sentence of its own: ``error_code`` holds a ``console.*`` code and ``error_message`` its
parameters as JSON (or nothing), and ``describe`` words it when the row is shown. ZStack's own error text is
kept as ZStack sent it and shown labelled as ZStack's; a ZStack or SDK code without text gets our translated
sentence for that code. Rows written before this (a sentence in ``error_message``) are shown as stored, the
few sentences the console used to write recognised and translated.

The same goes for the parts of a submission (``changes[i]["error_code"]`` / ``["error"]``) and the card's
warnings (dashboard/storages/wording.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from dashboard.audit.log import SECRET_FIELDS
from dashboard.formats.moments import absolute
from dashboard.zstack import errors as zstack_errors

PREFIX = "console."
PERMISSION_DENIED = "console.permission-denied"
THROTTLED = "console.throttled"  # params: limit, minute (ISO 8601 UTC)
CONFLICT = "console.conflict"  # params: fields (API field names)
INVALID = "console.invalid"  # params: errors [{field, code, message (msgid), params}]
DEADLINE_RUNNING = "console.deadline-running"
DEADLINE_UNSENT = "console.deadline-unsent"
NOT_SENT = "console.not-sent"
# Not a code but a part's (or an outcome's) stored *text*, beside ZStack's own code: ZStack's words were withheld
# because they may echo the SSH password the job was sent, and the process that followed the job no longer held
# the password to remove it (dashboard/storages/follow.py, ``_kept_text``).
ZSTACK_TEXT_WITHHELD = "console.zstack-text-withheld"

SENTENCES = {
    PERMISSION_DENIED: _("Permission denied."),
    THROTTLED: _(
        "More than %(limit)s refused writes by this user in the minute starting %(minute)s: the rest of that "
        "minute's are answered 429 and not recorded one by one."
    ),
    CONFLICT: _("Changed in ZStack since the form was loaded: %(fields)s."),
    DEADLINE_RUNNING: _("Still running at the console's deadline; ZStack may yet complete it."),
    DEADLINE_UNSENT: _("Not sent before the console's deadline."),
    NOT_SENT: _("The console stopped before it sent this change to ZStack. Nothing was changed."),
    ZSTACK_TEXT_WITHHELD: _(
        "ZStack's message is withheld: it may contain the SSH password that was sent, and the console could "
        "no longer remove it."
    ),
}

# What the console wrote before it stored codes: the same facts, so they read in the reader's language too.
_LEGACY = {
    "Permission denied.": PERMISSION_DENIED,
    "Still running at the console's deadline; ZStack may yet complete it.": DEADLINE_RUNNING,
    "Not sent before the console's deadline.": DEADLINE_UNSENT,
    "The console stopped before it sent this change to ZStack. Nothing was changed.": NOT_SENT,
}
_LEGACY_CONFLICT = re.compile(r"Changed in ZStack since the form was loaded: ([\w, ]+)")


@dataclass(frozen=True, slots=True)
class Message:
    """An outcome's reason as shown: ``source`` "console" (our words, translated), "zstack" (ZStack's own
    text, as sent) or "stored" (a sentence an older row holds, as stored)."""

    text: str
    source: str
    code: str = ""

    @property
    def from_zstack(self) -> bool:
        return self.source == "zstack"

    @property
    def shown_code(self) -> str:
        """ZStack's or the SDK's code, worth showing; our own codes are internal (the sentence says it)."""
        return "" if self.code.startswith(PREFIX) else self.code

    def __str__(self) -> str:
        return self.text


def params_json(**params: Any) -> str:
    """The parameters of a console code as ``error_message`` stores them."""
    return json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def invalid_params(errors: Any, limit: int = 4000) -> str:
    """INVALID's parameters as stored: whole errors only, as many as fit the column (a cut JSON can't be read)."""
    rows = validation_errors(errors)
    while rows and len(params_json(errors=rows)) > limit:
        rows.pop()
    return params_json(errors=rows) if rows else ""


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """A form's errors (``form.errors``: field -> ValidationErrors) as INVALID's parameters: each error's
    code, its untranslated message and parameters, never a sentence in the submitter's language. A plain
    ``{field: [text, ...]}`` (no codes) keeps its texts."""
    rows: list[dict[str, Any]] = []
    data = errors.as_data() if hasattr(errors, "as_data") else errors
    for field, items in data.items():
        for item in items:
            if hasattr(item, "message"):
                message = _msgid(item.message)
                params = item.params if isinstance(item.params, dict) else {}
                rows.append(
                    {
                        "field": field,
                        "code": item.code or "",
                        **message,
                        "params": {k: _plain(v) for k, v in params.items() if _keeps(field, k, message)},
                    }
                )
            else:
                rows.append({"field": field, "code": "", "message": str(item), "params": {}})
    return rows


def _msgid(message: Any) -> dict[str, str]:
    """The untranslated message of a ValidationError, translated again when shown. A plural message
    (``ngettext_lazy(singular, plural, "limit_value")``, e.g. Django's max_length) keeps both forms and the
    parameter that counts; its text alone would be empty until formatted."""
    reduce = getattr(message, "__reduce__", None)
    try:
        _, (_, _, number, forms) = reduce() if reduce else (None, (None, None, None, None))
    except (TypeError, ValueError):
        number, forms = None, None
    if isinstance(forms, dict) and "singular" in forms and "plural" in forms and isinstance(number, str):
        return {"message": str(forms["singular"]), "plural": str(forms["plural"]), "number": number}
    with translation.override(None):
        return {"message": str(message)}


def _keeps(field: str, name: str, message: dict[str, str]) -> bool:
    """Django's validators pass the submitted ``value`` along: kept only where the message shows it, and never
    for a secret (the SSH password is recorded only as changed: log.SECRET_FIELDS)."""
    if name != "value":
        return True
    return field not in SECRET_FIELDS and any("%(value)" in text for text in message.values())


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def describe(code: str | None, text: str | None) -> Message | None:
    """What to show for a stored ``error_code`` and ``error_message`` (module docstring); None for neither."""
    code, text = code or "", text or ""
    if code.startswith(PREFIX):
        return Message(_console(code, text), "console", code)
    if text == ZSTACK_TEXT_WITHHELD:  # ZStack's code stays, shown with our sentence instead of its words
        return Message(str(SENTENCES[ZSTACK_TEXT_WITHHELD]), "console", code)
    if text in _LEGACY:  # older rows: "sdk.1001" with the deadline sentence, or no code at all
        return Message(_console(_LEGACY[text], ""), "console", code or _LEGACY[text])
    if text and text in _default_messages().values():  # older rows: the client's sentence, not ZStack's words
        return Message(gettext(text), "console", code)
    if not code and (match := _LEGACY_CONFLICT.fullmatch(text.rstrip("."))):
        fields = [f.strip() for f in match.group(1).split(",")]
        return Message(_console(CONFLICT, params_json(fields=fields)), "console", CONFLICT)
    if text:
        return Message(text, "zstack" if code else "stored", code)
    if code:
        return Message(gettext(_default_messages().get(code, zstack_errors.ZStackError.default_message)), "", code)
    return None


def _console(code: str, text: str) -> str:
    from .labels import FIELD_LABELS, label  # labels imports log -> models; kept local like models.py does

    try:
        params = json.loads(text) if text else {}
    except ValueError:
        params = {}
    if not isinstance(params, dict):
        params = {}
    if code == INVALID:  # the errors are the sentence
        # Translators: between whole sentences of a list ("Name: required.; SSH port: too big.").
        separator = pgettext("sentence list separator", "; ")
        return separator.join(_validation_text(e) for e in params.get("errors") or () if isinstance(e, dict))
    sentence = SENTENCES.get(code)
    if sentence is None:
        return code
    try:
        if code == THROTTLED:
            minute = dt.datetime.fromisoformat(str(params.get("minute")))
            return str(sentence) % {"limit": params.get("limit", "?"), "minute": absolute(minute)}
        if code == CONFLICT:
            # Translators: between the items of a list ("Name, SSH port").
            fields = pgettext("list separator", ", ").join(
                str(label(FIELD_LABELS, f)) for f in params.get("fields") or ()
            )
            return str(sentence) % {"fields": fields}
    except (TypeError, ValueError, KeyError):
        return gettext("%(code)s (details not readable)") % {"code": code}
    return str(sentence)


def _validation_text(error: dict[str, Any]) -> str:
    from .labels import FIELD_LABELS, label

    field = str(error.get("field") or "")
    params = error.get("params") or {}
    singular, plural = str(error.get("message") or error.get("code") or ""), error.get("plural")
    if plural and isinstance(params.get(error.get("number")), int):
        message = ngettext(singular, str(plural), params[error["number"]])
    else:
        message = gettext(singular)
    try:
        message = message % params if params else message
    except (TypeError, ValueError, KeyError):
        pass
    if field == "__all__":
        return message
    # Translators: a form field's label and one of its errors ("SSH port: Ensure this value is …").
    return pgettext("field error", "%(field)s: %(message)s") % {"field": label(FIELD_LABELS, field), "message": message}


@functools.cache
def _default_messages() -> dict[str, str]:
    """ZStack's and the SDK's codes -> the client's sentence for them (dashboard/zstack/errors.py)."""
    found: dict[str, str] = {}
    pending: list[type[zstack_errors.ZStackError]] = [zstack_errors.ZStackError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.default_code, cls.default_message)
        pending.extend(cls.__subclasses__())
    return found
