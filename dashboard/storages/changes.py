"""What an edit changes, computed from plain values: which fields the user edited, which of those
someone else changed meanwhile (conflicts), and what sending them would change in ZStack now.
No I/O here; services.py does the reading, writing and auditing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.audit.log import TAG_FIELDS, FieldChange
from dashboard.zstack.inventory import BackupStorage, ResourceTags

PLAIN_FIELDS = {  # form / API field name -> BackupStorage attribute
    "name": "name",
    "description": "description",
    "hostname": "hostname",
    "username": "username",
    "sshPort": "ssh_port",
}
EDITABLE_FIELDS = (*PLAIN_FIELDS, *TAG_FIELDS)  # what the edit form shows and snapshots (never the password)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field the user edited that someone else changed in ZStack, to another value, meanwhile."""

    field: str
    loaded: Any  # when the form was loaded
    current: Any  # in ZStack now
    yours: Any  # what the user submitted


def editable_values(storage: BackupStorage, tags: ResourceTags) -> dict[str, Any]:
    """The edit form's values as ZStack holds them: its initial data and its signed snapshot."""
    return {
        "name": storage.name or "",
        "description": storage.description or "",
        "hostname": storage.hostname or "",
        "username": storage.username or "",
        "sshPort": storage.ssh_port,
        "systemTags": list(tags.system_texts),
        "userTags": list(tags.user_texts),
    }


def edited_fields(loaded: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The user's edits: submitted values that differ from those the form was loaded with."""
    return {
        field: changes[field]
        for field in EDITABLE_FIELDS
        if is_given(field, changes) and not same(field, loaded.get(field), changes[field])
    }


def find_conflicts(*, loaded: dict[str, Any], now: dict[str, Any], edited: dict[str, Any]) -> tuple[Conflict, ...]:
    """Edited fields that someone else changed in ZStack since the form was loaded, to another value
    than the user's. An upstream change to a field the user left alone is no conflict."""
    return tuple(
        Conflict(field=field, loaded=loaded.get(field), current=now[field], yours=value)
        for field, value in edited.items()
        if not same(field, now[field], loaded.get(field)) and not same(field, now[field], value)
    )


def tag_texts(tags: ResourceTags, field: str) -> tuple[str, ...]:
    return tags.system_texts if field == "systemTags" else tags.user_texts


def current_value(storage: BackupStorage, tags: ResourceTags, field: str):
    if field in TAG_FIELDS:
        return tag_texts(tags, field)
    return getattr(storage, PLAIN_FIELDS[field])


def is_given(field: str, changes: dict[str, Any]) -> bool:
    """Absent (or None, except a blanked description) means "keep ZStack's value"."""
    return field in changes and (changes[field] is not None or field == "description")


def same(field: str, a, b) -> bool:
    if field in TAG_FIELDS:  # a set of texts: ZStack keeps no order
        return set(a or ()) == set(b or ())
    if field in ("name", "description", "hostname", "username"):  # ZStack omits null strings: blank = absent
        return (a or "") == (b or "")
    return a == b


def storage_diff(storage: BackupStorage, tags: ResourceTags, changes: dict[str, Any]) -> tuple[FieldChange, ...]:
    """What sending ``changes`` would change in ZStack now (the password only as "changed")."""
    diff: list[FieldChange] = []
    for field in PLAIN_FIELDS:
        if not is_given(field, changes):
            continue
        current, wanted = current_value(storage, tags, field), changes[field]
        if not same(field, current, wanted):
            diff.append(FieldChange(field=field, before=current, after=wanted or ""))
    if changes.get("password"):
        diff.append(FieldChange(field="password", changed=True))  # the fact only, never the value
    for field in TAG_FIELDS:
        if not is_given(field, changes):
            continue
        current, wanted = current_value(storage, tags, field), tuple(changes[field])
        added = tuple(t for t in wanted if t not in current)
        removed = tuple(t for t in current if t not in wanted)
        if added or removed:
            diff.append(FieldChange(field=field, before=current, after=wanted, added=added, removed=removed))
    return tuple(diff)
