"""Human labels for stored codes, and each event's changes as rows a template can show as a diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .log import Action, Outcome
from .messages import Message, describe

ACTION_LABELS = {
    Action.UPDATE: _("Update"),
    Action.RECONNECT: _("Reconnect"),
    Action.ENABLE: _("Enable"),
    Action.DISABLE: _("Disable"),
    Action.RECLAIM: _("Reclaim space"),
    Action.THRESHOLDS: _("Capacity thresholds"),
    Action.CHAIN_SEALED: _("Audit chain sealed"),
    Action.LOGIN: _("Log in"),
    Action.LOGIN_FAILED: _("Failed login"),
    Action.LOCKOUT: _("Login locked"),
}
OUTCOME_LABELS = {
    Outcome.ATTEMPTED: _("Attempted"),
    Outcome.SUCCEEDED: _("Succeeded"),
    Outcome.PARTIAL: _("Partly succeeded"),
    Outcome.FAILED: _("Failed"),
    Outcome.TIMED_OUT: _("Timed out"),
    Outcome.CONFLICT: _("Conflict"),
    Outcome.REFUSED: _("Refused"),
    Outcome.INVALID: _("Invalid"),
    Outcome.THROTTLED: _("Throttled"),
}
# Badge tones of the project stylesheet (badge--ok / --busy / --bad / --muted).
OUTCOME_TONES: dict[str, str] = {  # keyed by Outcome, looked up with the stored text
    Outcome.ATTEMPTED: "busy",
    Outcome.SUCCEEDED: "ok",
    Outcome.PARTIAL: "bad",
    Outcome.FAILED: "bad",
    Outcome.TIMED_OUT: "bad",
    Outcome.REFUSED: "bad",
    Outcome.CONFLICT: "muted",
    Outcome.INVALID: "muted",
    Outcome.THROTTLED: "bad",
}
# The one place field labels are worded: keyed by the API's field names (docs/zstack-protocol.md §4), worded as the edit
# form labels them; "state" is what enable/disable change. The audit log, its filter and the storage pages
# (storage_tags) all read this dict, so a field is called the same everywhere.
FIELD_LABELS = {
    "name": _("Name"),
    "description": _("Description"),
    "hostname": _("Host name or IP address"),
    "username": _("SSH user name"),
    "password": _("SSH password"),
    "sshPort": _("SSH port"),
    "systemTags": _("System tags"),
    "userTags": _("User tags"),
    "state": _("State"),
    # Not a field of the storage: what a reclaim freed, on its outcome row (dashboard/storages/follow.py).
    "freedSpaceInBytes": _("Space freed (bytes)"),
    # A storage's own capacity thresholds (dashboard/capacity): a recorded None is "the default".
    "warningPercent": _("Warning threshold (%)"),
    "criticalPercent": _("Critical threshold (%)"),
}


# Values ZStack stores in English that a diff shows: a state is worded in the reader's language
# ("已禁用 → 已启用"), the same words as the storage pages' state badges (same message ids).
VALUE_LABELS = {
    "state": {
        "Enabled": _("Enabled"),
        "Disabled": _("Disabled"),
        "Connecting": _("Connecting"),
        "Connected": _("Connected"),
        "Disconnected": _("Disconnected"),
    },
}


def value_label(field: str, value: object) -> object:
    words = VALUE_LABELS.get(field)
    return words.get(value, value) if words and isinstance(value, str) else value


def label(labels: dict, code: str):
    return labels.get(code, code)


@dataclass(frozen=True, slots=True)
class DiffRow:
    field: str
    label: str
    kind: str  # "value" (before → after), "secret" (changed, no value), "masked" (changed, value hidden), "tags"
    before: object = None
    after: object = None
    added: tuple = ()
    removed: tuple = ()
    job: str = ""  # outcome rows: the ZStack job of this part, its result and error
    result: str = ""
    result_label: object = ""
    result_tone: str = ""
    error_code: str = ""
    error: Message | None = None  # the part's error as shown (audit.messages.describe)


class _Part(TypedDict):
    """An outcome row's part fields of a DiffRow, spread into each kind of row."""

    job: str
    result: str
    result_label: object
    result_tone: str
    error_code: str
    error: Message | None


PART_RESULT_LABELS = {"succeeded": _("done"), "failed": _("failed"), "timed_out": _("not confirmed")}
PART_RESULT_TONES = {"succeeded": "ok", "failed": "bad", "timed_out": "bad"}


# Values the storage card shows only to roles with VIEW_STORAGE_DETAILS. Auditors see them in the trail (auditing
# a change needs its values: dashboard/accounts/roles.py); AUDIT_MASK_CONNECTION_VALUES hides them there too.
CONNECTION_FIELDS = frozenset({"hostname", "username", "sshPort", "systemTags", "userTags"})


def shown_changes(changes: list[dict]) -> list[dict]:
    """An event's changes as the audit views and exports may show them: with AUDIT_MASK_CONNECTION_VALUES on,
    a connection field says only that it changed (the stored row, and so the chain, keeps the values)."""
    if not settings.AUDIT_MASK_CONNECTION_VALUES:
        return list(changes or ())
    part = ("job", "result", "error_code", "error")  # which job made the change and how it ended: no values
    return [
        {"field": c.get("field"), "changed": True, "masked": True, **{k: c[k] for k in part if k in c}}
        if c.get("field") in CONNECTION_FIELDS
        else c
        for c in changes or ()
    ]


def diff_rows(changes: list[dict]) -> list[DiffRow]:
    rows = []
    for change in shown_changes(changes):
        name = str(change.get("field", ""))
        result = str(change.get("result") or "")
        part: _Part = {
            "job": str(change.get("job") or ""),
            "result": result,
            "result_label": label(PART_RESULT_LABELS, result) if result else "",
            "result_tone": PART_RESULT_TONES.get(result, ""),
            "error_code": str(change.get("error_code") or ""),
            "error": describe(change.get("error_code"), change.get("error")),
        }
        if change.get("masked"):
            rows.append(DiffRow(name, label(FIELD_LABELS, name), "masked", **part))
        elif "changed" in change and "before" not in change:
            rows.append(DiffRow(name, label(FIELD_LABELS, name), "secret", **part))
        elif "added" in change or "removed" in change:
            rows.append(
                DiffRow(
                    name,
                    label(FIELD_LABELS, name),
                    "tags",
                    added=tuple(change.get("added") or ()),
                    removed=tuple(change.get("removed") or ()),
                    **part,
                )
            )
        else:
            before, after = value_label(name, change.get("before")), value_label(name, change.get("after"))
            rows.append(DiffRow(name, label(FIELD_LABELS, name), "value", before, after, **part))
    return rows
