"""Writes (HackSoftware style): every change to a storage goes through here, whoever asks (a view, a
command, a task), so every attempt is audited alike.

Each write: read the storage fresh, compute the change, record the attempt (if that fails, ZStack is
not called), call ZStack with a job uuid generated first (the audit correlation id), record the
outcome, and return the re-read inventory. Attempts that never reach ZStack (refused, invalid, stale)
are recorded here too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from dashboard.accounts.actor import Actor
from dashboard.audit import log as audit
from dashboard.audit.log import Action, FieldChange, Outcome
from dashboard.zstack.client import get_client, new_job_uuid
from dashboard.zstack.errors import ZStackError, ZStackTimeout
from dashboard.zstack.inventory import BackupStorage, ResourceTags

PLAIN_FIELDS = {  # form / API field name -> BackupStorage attribute
    "name": "name",
    "description": "description",
    "hostname": "hostname",
    "username": "username",
    "sshPort": "ssh_port",
}
TAG_FIELDS = ("systemTags", "userTags")
logger = logging.getLogger(__name__)


# --- what callers can catch -----------------------------------------------------------------


class StorageWriteError(Exception):
    """Base of the service's errors; views show ``message``."""


@dataclass(frozen=True, slots=True)
class Conflict:
    field: str
    yours: Any
    current: Any


class StaleForm(StorageWriteError):
    """The storage changed in ZStack since the form was loaded; nothing was written."""

    def __init__(self, *, current: BackupStorage, current_tags: ResourceTags, conflicts: tuple[Conflict, ...]):
        super().__init__("stale form")
        self.current = current
        self.current_tags = current_tags
        self.conflicts = conflicts


class WriteFailed(StorageWriteError):
    """ZStack refused, failed, timed out or could not be reached. ``correlation_id`` is the X-Job-UUID."""

    def __init__(self, error: ZStackError, correlation_id: str | None):
        super().__init__(str(error))
        self.error = error
        self.correlation_id = correlation_id
        self.code = error.code
        self.message = error.user_message
        self.timed_out = isinstance(error, ZStackTimeout)


class AuditUnavailable(StorageWriteError):
    """The attempt could not be recorded, so ZStack was not called."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    storage: BackupStorage  # re-read from ZStack after the write
    changes: tuple[FieldChange, ...]  # empty: nothing to change, no upstream call was made
    correlation_id: str | None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# --- the writes --------------------------------------------------------------------------------


def storage_update(*, actor: Actor, uuid: str, changes: dict[str, Any], loaded_last_op_date: str) -> WriteResult:
    """Apply the submitted form values (``changes``: API field name -> wanted value) to the storage.

    Only fields that differ from ZStack's current values are sent; a blank password keeps the current
    one; added tags go in the update itself, removed tags are deleted by their Tag uuid.
    """
    client = get_client()
    current = client.get_image_store(uuid)
    tags = client.get_tags(uuid)
    if loaded_last_op_date != last_op_stamp(current):
        conflicts = _conflicts(current, tags, changes)
        _record_safely(actor=actor, action=Action.UPDATE, storage_uuid=uuid, storage_name=current.name or "",
                       outcome=Outcome.CONFLICT, changes=list(_diff(current, tags, changes)),
                       error_message="The storage changed in ZStack since the form was loaded.")
        raise StaleForm(current=current, current_tags=tags, conflicts=conflicts)

    diff = _diff(current, tags, changes)
    if not diff:
        return WriteResult(storage=current, changes=(), correlation_id=None)

    def call(job_uuid: str) -> str:
        return _send_update(client, uuid, diff, password=changes.get("password") or None, tags=tags,
                            job_uuid=job_uuid)

    correlation_id = _audited_write(actor, Action.UPDATE, current, diff, call)
    return WriteResult(storage=client.get_image_store(uuid), changes=diff, correlation_id=correlation_id)


def storage_reconnect(*, actor: Actor, uuid: str) -> WriteResult:
    client = get_client()
    current = client.get_image_store(uuid)
    correlation_id = _audited_write(
        actor, Action.RECONNECT, current, (),
        lambda job_uuid: client.reconnect_image_store(uuid, job_uuid=job_uuid).job_uuid,
    )
    return WriteResult(storage=client.get_image_store(uuid), changes=(), correlation_id=correlation_id)


def storage_set_state(*, actor: Actor, uuid: str, enabled: bool) -> WriteResult:
    client = get_client()
    current = client.get_image_store(uuid)
    action, event = (Action.ENABLE, "enable") if enabled else (Action.DISABLE, "disable")
    change = FieldChange(field="state", before=current.state, after="Enabled" if enabled else "Disabled")
    correlation_id = _audited_write(
        actor, action, current, (change,),
        lambda job_uuid: client.change_state(uuid, event, job_uuid=job_uuid).job_uuid,
    )
    return WriteResult(storage=client.get_image_store(uuid), changes=(change,), correlation_id=correlation_id)


def _send_update(client, uuid: str, diff, *, password: str | None, tags: ResourceTags, job_uuid: str) -> str:
    """The upstream calls for one edit: the update (changed fields, added tags at the top level), then
    one DeleteTag per removed tag. Returns the job uuid of the first call (the correlation id)."""
    update = {c.field: c.after for c in diff if c.field in PLAIN_FIELDS}
    added = {c.field: list(c.added) for c in diff if c.field in TAG_FIELDS and c.added}
    removed_texts = {c.field: set(c.removed) for c in diff if c.field in TAG_FIELDS}
    removed = [t.uuid for t in tags.system if t.tag in removed_texts.get("systemTags", ())]
    removed += [t.uuid for t in tags.user if t.tag in removed_texts.get("userTags", ())]
    sends_password = any(c.field == "password" for c in diff)
    accepted = None
    if update or added or sends_password:
        accepted = client.update_image_store(
            uuid, job_uuid=job_uuid, name=update.get("name"), description=update.get("description"),
            hostname=update.get("hostname"), username=update.get("username"),
            password=password if sends_password else None, ssh_port=update.get("sshPort"),
            system_tags=added.get("systemTags"), user_tags=added.get("userTags"),
        ).job_uuid
    for tag_uuid in removed:
        # Every write needs its own X-Job-UUID: ZStack rejects a reused one (zstack-api.md §1).
        result = client.delete_tag(tag_uuid, job_uuid=job_uuid if accepted is None else new_job_uuid())
        accepted = accepted or result.job_uuid
    return accepted or job_uuid


def write_refused(*, actor: Actor, action: Action, uuid: str) -> None:
    """A write the actor's role does not allow (the view answers 403). No upstream call, not even a read."""
    _record_safely(actor=actor, action=action, storage_uuid=uuid, storage_name="", outcome=Outcome.REFUSED,
                   changes=[], error_message="Permission denied.")


def storage_update_invalid(*, actor: Actor, uuid: str, errors: dict[str, list[str]]) -> None:
    """An edit rejected by validation: recorded, never sent. ``errors`` maps field -> messages
    (messages about the password are kept, its value never is: the form does not carry it here)."""
    summary = "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())
    _record_safely(actor=actor, action=Action.UPDATE, storage_uuid=uuid, storage_name="",
                   outcome=Outcome.INVALID, changes=[], error_message=summary[:2000])


# --- helpers -----------------------------------------------------------------------------------


def last_op_stamp(storage: BackupStorage) -> str:
    """The value the edit form carries in ``last_op_date`` to detect concurrent changes."""
    return storage.last_op_date.isoformat() if storage.last_op_date else ""


def _audited_write(actor: Actor, action: Action, current: BackupStorage, changes, call) -> str:
    """Record the attempt, run ``call(job_uuid)`` (returns the job uuid ZStack accepted), record the outcome."""
    job_uuid = new_job_uuid()
    try:
        attempt = audit.record(actor=actor, action=action, storage_uuid=current.uuid,
                               storage_name=current.name or "", outcome=Outcome.ATTEMPTED,
                               changes=list(changes), correlation_id=job_uuid)
    except audit.AuditUnavailable as error:
        raise AuditUnavailable(str(error)) from error
    started = time.monotonic()
    try:
        accepted = call(job_uuid)
    except ZStackError as error:
        correlation_id = error.job_uuid or job_uuid
        outcome = Outcome.TIMED_OUT if isinstance(error, ZStackTimeout) else Outcome.FAILED
        _record_safely(actor=actor, action=action, storage_uuid=current.uuid, storage_name=current.name or "",
                       outcome=outcome, changes=list(changes), correlation_id=correlation_id, attempt=attempt,
                       duration_ms=_ms_since(started), error_code=error.code, error_message=error.user_message)
        raise WriteFailed(error, correlation_id) from error
    _record_safely(actor=actor, action=action, storage_uuid=current.uuid, storage_name=current.name or "",
                   outcome=Outcome.SUCCEEDED, changes=list(changes), correlation_id=accepted, attempt=attempt,
                   duration_ms=_ms_since(started))
    return accepted


def _record_safely(**kwargs) -> None:
    """Outcomes after the fact: the write already happened (or never will), so a failing audit store
    must not turn it into an error page. The attempt row, written first, already leaves a trace."""
    try:
        audit.record(**kwargs)
    except audit.AuditUnavailable:
        logger.exception("Could not record the audit outcome %s", kwargs.get("outcome"))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _current_value(storage: BackupStorage, tags: ResourceTags, field: str):
    if field == "systemTags":
        return tags.system_texts
    if field == "userTags":
        return tags.user_texts
    return getattr(storage, PLAIN_FIELDS[field])


def _same(field: str, current, wanted) -> bool:
    if field == "description":  # ZStack omits a null description; blank and absent are the same
        return (current or "") == (wanted or "")
    return current == wanted


def _diff(storage: BackupStorage, tags: ResourceTags, changes: dict[str, Any]) -> tuple[FieldChange, ...]:
    diff: list[FieldChange] = []
    for field in PLAIN_FIELDS:
        wanted = changes.get(field)
        if field not in changes or wanted is None and field != "description":  # absent: keep ZStack's value
            continue
        current = _current_value(storage, tags, field)
        if not _same(field, current, wanted):
            diff.append(FieldChange(field=field, before=current, after=wanted or ""))
    if changes.get("password"):
        diff.append(FieldChange(field="password", changed=True))  # the fact only, never the value
    for field in TAG_FIELDS:
        if field not in changes or changes[field] is None:
            continue
        current, wanted = _current_value(storage, tags, field), tuple(changes[field])
        added = tuple(t for t in wanted if t not in current)
        removed = tuple(t for t in current if t not in wanted)
        if added or removed:
            diff.append(FieldChange(field=field, before=current, after=wanted, added=added, removed=removed))
    return tuple(diff)


def _conflicts(storage: BackupStorage, tags: ResourceTags, changes: dict[str, Any]) -> tuple[Conflict, ...]:
    """Fields where the submitted value differs from ZStack's current one (what the user must review)."""
    conflicts = []
    for field in (*PLAIN_FIELDS, *TAG_FIELDS):
        if field not in changes:
            continue
        current, wanted = _current_value(storage, tags, field), changes[field]
        if field in TAG_FIELDS:
            wanted = tuple(wanted or ())
        if not _same(field, current, wanted):
            conflicts.append(Conflict(field=field, yours=wanted, current=current))
    return tuple(conflicts)
