"""Human labels for stored codes, and each event's changes as rows a template can show as a diff."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from dashboard.accounts.roles import Role

from .log import Action, Outcome

ACTION_LABELS = {
    Action.UPDATE: _("Update"),
    Action.RECONNECT: _("Reconnect"),
    Action.ENABLE: _("Enable"),
    Action.DISABLE: _("Disable"),
    Action.LOGIN: _("Log in"),
    Action.LOGIN_FAILED: _("Failed login"),
    Action.LOCKOUT: _("Login locked"),
}
OUTCOME_LABELS = {
    Outcome.ATTEMPTED: _("Attempted"),
    Outcome.SUCCEEDED: _("Succeeded"),
    Outcome.FAILED: _("Failed"),
    Outcome.TIMED_OUT: _("Timed out"),
    Outcome.CONFLICT: _("Conflict"),
    Outcome.REFUSED: _("Refused"),
    Outcome.INVALID: _("Invalid"),
}
# Badge tones of the project stylesheet (badge--ok / --busy / --bad / --muted).
OUTCOME_TONES = {
    Outcome.ATTEMPTED: "busy",
    Outcome.SUCCEEDED: "ok",
    Outcome.FAILED: "bad",
    Outcome.TIMED_OUT: "bad",
    Outcome.REFUSED: "bad",
    Outcome.CONFLICT: "muted",
    Outcome.INVALID: "muted",
}
ROLE_LABELS = {
    Role.ADMIN: _("Administrator"),
    Role.AUDITOR: _("Auditor"),
    Role.VIEWER: _("Viewer"),
}
# The one place field labels are worded: keyed by the API's field names (zstack-api.md §4), worded as the edit
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
}


def label(labels: dict, code: str):
    return labels.get(code, code)


@dataclass(frozen=True, slots=True)
class DiffRow:
    field: str
    label: str
    kind: str  # "value" (before → after), "secret" (changed, no value), "tags" (added / removed)
    before: object = None
    after: object = None
    added: tuple = ()
    removed: tuple = ()


def diff_rows(changes: list[dict]) -> list[DiffRow]:
    rows = []
    for change in changes or ():
        name = str(change.get("field", ""))
        if "changed" in change and "before" not in change:
            rows.append(DiffRow(name, label(FIELD_LABELS, name), "secret"))
        elif "added" in change or "removed" in change:
            rows.append(DiffRow(name, label(FIELD_LABELS, name), "tags",
                                added=tuple(change.get("added") or ()), removed=tuple(change.get("removed") or ())))  # fmt: skip
        else:
            rows.append(DiffRow(name, label(FIELD_LABELS, name), "value", change.get("before"), change.get("after")))
    return rows
