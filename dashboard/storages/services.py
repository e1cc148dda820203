"""Writes (HackSoftware style): every change to a storage goes through here, whoever asks (a view, a
command, a task), so every attempt is audited alike.

Each write: read the storage fresh, compute the change, record the attempt (if that fails, ZStack is
not called), call ZStack with a job uuid generated first (the audit correlation id), record the
outcome, and return the job's result inventory. Attempts that never reach ZStack (refused, invalid,
stale) are recorded here too.

Once ZStack has made a change, nothing after it (a re-read, a tag deletion) turns it into an error:
the caller gets a StorageWriteOutcome that says what took effect and what did not.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.views.decorators.debug import sensitive_variables

from dashboard.accounts.actor import Actor
from dashboard.audit import log as audit
from dashboard.audit.log import Action, FieldChange, Outcome
from dashboard.zstack.client import get_client, new_job_uuid
from dashboard.zstack.errors import OutcomeUnknown, ZStackError
from dashboard.zstack.inventory import BackupStorage, ResourceTags, WriteResult

from .changes import (
    PLAIN_FIELDS, TAG_FIELDS, Conflict, edited_fields, editable_values, find_conflicts, storage_diff, tag_texts,
)

TAGS_NOT_STORED = "console.tags-not-stored"  # our audit code: ZStack took added tags without storing them
logger = logging.getLogger(__name__)


# --- what callers get and can catch ------------------------------------------------------------


class StorageWriteError(Exception):
    """Base of the service's errors; views show ``message``."""


class StaleForm(StorageWriteError):
    """Someone else changed fields the user edited since the form was loaded; nothing was written.
    ``current_values``: ZStack's editable values now (the re-rendered form's fresh snapshot)."""

    def __init__(self, *, current_values: dict[str, Any], conflicts: tuple[Conflict, ...]):
        super().__init__("stale form")
        self.current_values = current_values
        self.conflicts = conflicts


class WriteFailed(StorageWriteError):
    """Nothing was changed, or whether it was is unknown (``outcome_unknown``: the request was sent but
    its answer lost, it timed out or its job vanished). ``correlation_id`` is the X-Job-UUID."""

    def __init__(self, error: ZStackError, correlation_id: str | None):
        super().__init__(str(error))
        self.error = error
        self.correlation_id = correlation_id
        self.code = error.code
        self.message = error.user_message
        self.outcome_unknown = isinstance(error, OutcomeUnknown)


class AuditUnavailable(StorageWriteError):
    """The attempt could not be recorded, so ZStack was not called."""


@dataclass(frozen=True, slots=True)
class PartFailed:
    """One part of an edit that did not take effect although the rest did: a tag ZStack did not remove
    (``kind`` "not-removed": its DeleteTag failed) or added tags it did not store ("not-stored", §4.2)."""

    field: str  # systemTags | userTags
    tags: tuple[str, ...]
    kind: str
    code: str
    message: str  # ZStack's error, for "not-removed"
    correlation_id: str | None
    outcome_unknown: bool = False

    @property
    def change(self) -> FieldChange:
        if self.kind == "not-stored":
            return FieldChange(field=self.field, added=self.tags)
        return FieldChange(field=self.field, removed=self.tags)

    @property
    def audit_message(self) -> str:
        tags = ", ".join(self.tags)
        if self.kind == "not-stored":
            return f"ZStack accepted the update but did not store these tags: {tags}"
        return f"Removing the tag {tags} failed: {self.message}"


@dataclass(frozen=True, slots=True)
class StorageWriteOutcome:
    storage: BackupStorage | None  # the job's result inventory (or a re-read); None: could not be refreshed
    tags: ResourceTags | None  # the tags as last read here, when this write read them
    changes: tuple[FieldChange, ...]  # what took effect; empty with no failed_parts: nothing to change, no call
    correlation_id: str | None
    failed_parts: tuple[PartFailed, ...] = ()
    refresh_error: str | None = None  # the write succeeded, but re-reading the storage or its tags failed

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True, slots=True)
class _Applied:
    """What one audited write did upstream (internal to this module)."""

    correlation_id: str
    inventory: BackupStorage | None
    changes: tuple[FieldChange, ...]
    tags: ResourceTags | None = None
    failed: tuple[PartFailed, ...] = ()
    tags_error: str | None = None

    @classmethod
    def of(cls, result: WriteResult, changes: tuple[FieldChange, ...] = ()) -> _Applied:
        return cls(correlation_id=result.job_uuid, inventory=result.inventory, changes=changes)


# --- the writes --------------------------------------------------------------------------------


# A debug error page shows each frame's variables: the submitted password stays hidden (changes, password).
@sensitive_variables("changes", "password")
def storage_update(*, actor: Actor, uuid: str, changes: dict[str, Any],
                   loaded: dict[str, Any]) -> StorageWriteOutcome:
    """Apply the user's edits. ``changes``: API field name -> submitted value (password included, blank
    keeps it); ``loaded``: the editable values when the form was loaded (its signed snapshot).

    The user's edits are the fields that differ from ``loaded``; only those are sent, and only where
    ZStack does not already hold the value, so what someone else changed in other fields is kept. An
    edited field that someone else changed meanwhile to another value is a conflict: nothing is sent.
    Added tags go in the update itself, removed tags are deleted by their Tag uuid.
    """
    client = get_client()
    current, tags = client.get_image_store(uuid), client.get_tags(uuid)
    now = editable_values(current, tags)
    edited = edited_fields(loaded, changes)
    password = changes.get("password") or None
    diff = storage_diff(current, tags, {**edited, "password": password})
    conflicts = find_conflicts(loaded=loaded, now=now, edited=edited)
    if conflicts:
        _record_safely(actor=actor, action=Action.UPDATE, storage_uuid=uuid, storage_name=current.name or "",
                       outcome=Outcome.CONFLICT, changes=list(diff),
                       error_message="Changed in ZStack since the form was loaded: "
                                     + ", ".join(c.field for c in conflicts))
        raise StaleForm(current_values=now, conflicts=conflicts)
    if not diff:
        return StorageWriteOutcome(storage=current, tags=tags, changes=(), correlation_id=None)
    applied = _audited_write(actor, Action.UPDATE, current, diff,
                             lambda job_uuid: _send_update(client, current, tags, diff, password, job_uuid))
    return _outcome(client, uuid, applied)


def storage_reconnect(*, actor: Actor, uuid: str) -> StorageWriteOutcome:
    client = get_client()
    current = client.get_image_store(uuid)
    applied = _audited_write(actor, Action.RECONNECT, current, (),
                             lambda job_uuid: _Applied.of(client.reconnect_image_store(uuid, job_uuid=job_uuid)))
    return _outcome(client, uuid, applied)


def storage_set_state(*, actor: Actor, uuid: str, enabled: bool) -> StorageWriteOutcome:
    client = get_client()
    current = client.get_image_store(uuid)
    action, event = (Action.ENABLE, "enable") if enabled else (Action.DISABLE, "disable")
    change = FieldChange(field="state", before=current.state, after="Enabled" if enabled else "Disabled")
    applied = _audited_write(
        actor, action, current, (change,),
        lambda job_uuid: _Applied.of(client.change_state(uuid, event, job_uuid=job_uuid), (change,)),
    )
    return _outcome(client, uuid, applied)


@sensitive_variables("password")
def _send_update(client, current: BackupStorage, tags: ResourceTags, diff: tuple[FieldChange, ...],
                 password: str | None, job_uuid: str) -> _Applied:
    """The upstream calls of one edit: the update (changed fields, added tags at the top level), one
    DeleteTag per removed tag, then a re-read of the tags if they changed: ZStack may accept added tags
    on an update without storing them (zstack-api.md §4.2). Raises only if nothing took effect."""
    plain = {c.field: c.after for c in diff if c.field in PLAIN_FIELDS}
    sends_password = any(c.field == "password" for c in diff)
    tag_changes = {c.field: c for c in diff if c.field in TAG_FIELDS}
    added = {field: c.added for field, c in tag_changes.items() if c.added}
    done = [c for c in diff if c.field not in TAG_FIELDS]
    correlation_id, inventory = None, current  # DeleteTag leaves the storage's inventory as it is
    if plain or added or sends_password:
        result = client.update_image_store(
            current.uuid, job_uuid=job_uuid, name=plain.get("name"), description=plain.get("description"),
            hostname=plain.get("hostname"), username=plain.get("username"),
            password=password if sends_password else None, ssh_port=plain.get("sshPort"),
            system_tags=added.get("systemTags"), user_tags=added.get("userTags"),
        )
        correlation_id, inventory = result.job_uuid, result.inventory
    removed, failed, first_error = _delete_tags(client, tags, tag_changes, job_uuid, correlation_id is None)
    if correlation_id is None and not any(removed.values()):
        raise first_error  # nothing took effect: the whole write failed
    correlation_id = correlation_id or next(job for texts in removed.values() for _, job in texts)
    fresh_tags, tags_error = tags, None
    if tag_changes:
        try:
            fresh_tags = client.get_tags(current.uuid)
        except ZStackError as error:
            fresh_tags, tags_error = None, error.user_message
    for field, texts in added.items():
        stored = () if fresh_tags is None else tag_texts(fresh_tags, field)
        missing = tuple(t for t in texts if t not in stored) if fresh_tags is not None else ()
        if missing:
            failed.append(PartFailed(field=field, tags=missing, kind="not-stored", code=TAGS_NOT_STORED,
                                     message="", correlation_id=correlation_id))
        added[field] = tuple(t for t in texts if t not in missing)
    for field, change in tag_changes.items():
        gone = tuple(text for text, _ in removed[field])
        if added.get(field) or gone:
            done.append(FieldChange(field=field, before=change.before, after=change.after,
                                    added=added.get(field, ()), removed=gone))
    return _Applied(correlation_id=correlation_id, inventory=inventory, changes=tuple(done), tags=fresh_tags,
                    failed=tuple(failed), tags_error=tags_error)


def _delete_tags(client, tags: ResourceTags, tag_changes: dict[str, FieldChange], job_uuid: str,
                 job_uuid_unused: bool):
    """One DeleteTag per removed tag, each tried even if another failed (they are independent).
    Returns ({field: [(text, job uuid)] removed}, [PartFailed], the first error or None)."""
    uuids = {"systemTags": {t.tag: t.uuid for t in tags.system}, "userTags": {t.tag: t.uuid for t in tags.user}}
    removed: dict[str, list[tuple[str, str]]] = {field: [] for field in TAG_FIELDS}
    failed: list[PartFailed] = []
    first_error = None
    for field, change in tag_changes.items():
        for text in change.removed:
            # Every write needs its own X-Job-UUID: ZStack rejects a reused one (zstack-api.md §1).
            this_job = job_uuid if job_uuid_unused else new_job_uuid()
            job_uuid_unused = False
            try:
                removed[field].append((text, client.delete_tag(uuids[field][text], job_uuid=this_job).job_uuid))
            except ZStackError as error:
                first_error = first_error or error
                failed.append(PartFailed(field=field, tags=(text,), kind="not-removed", code=error.code,
                                         message=error.user_message, correlation_id=error.job_uuid or this_job,
                                         outcome_unknown=isinstance(error, OutcomeUnknown)))
    return removed, failed, first_error


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


def _audited_write(actor: Actor, action: Action, current: BackupStorage, changes, call) -> _Applied:
    """Record the attempt, run ``call(job_uuid)``, record the outcome: one SUCCEEDED row for what took
    effect and one FAILED (or TIMED_OUT) row per part that did not, each literally true. If nothing
    took effect, the error is recorded and raised as WriteFailed."""
    job_uuid = new_job_uuid()
    try:
        attempt = audit.record(actor=actor, action=action, storage_uuid=current.uuid,
                               storage_name=current.name or "", outcome=Outcome.ATTEMPTED,
                               changes=list(changes), correlation_id=job_uuid)
    except audit.AuditUnavailable as error:
        raise AuditUnavailable(str(error)) from error
    started = time.monotonic()
    row = dict(actor=actor, action=action, storage_uuid=current.uuid, storage_name=current.name or "",
               attempt=attempt)
    try:
        applied = call(job_uuid)
    except ZStackError as error:
        correlation_id = error.job_uuid or job_uuid
        outcome = Outcome.TIMED_OUT if isinstance(error, OutcomeUnknown) else Outcome.FAILED
        _record_safely(**row, outcome=outcome, changes=list(changes), correlation_id=correlation_id,
                       duration_ms=_ms_since(started), error_code=error.code, error_message=error.user_message)
        raise WriteFailed(error, correlation_id) from error
    duration_ms = _ms_since(started)
    if applied.changes or not applied.failed:
        unchecked = any(c.added for c in applied.changes) and applied.tags_error
        note = f"The added tags could not be checked: {applied.tags_error}" if unchecked else None
        _record_safely(**row, outcome=Outcome.SUCCEEDED, changes=list(applied.changes),
                       correlation_id=applied.correlation_id, duration_ms=duration_ms, error_message=note)
    for part in applied.failed:
        _record_safely(**row, outcome=Outcome.TIMED_OUT if part.outcome_unknown else Outcome.FAILED,
                       changes=[part.change], correlation_id=part.correlation_id, duration_ms=duration_ms,
                       error_code=part.code, error_message=part.audit_message)
    return applied


def _outcome(client, uuid: str, applied: _Applied) -> StorageWriteOutcome:
    """The write succeeded (at least in part): its result, never an error. The job's inventory is used
    when it has the ImageStore fields (a generic BackupStorageInventory lacks them, §4.4); else one
    re-read, whose failure is only a note."""
    storage, refresh_error = applied.inventory, None
    if storage is None or storage.hostname is None:
        try:
            storage = client.get_image_store(uuid)
        except ZStackError as error:
            storage, refresh_error = None, error.user_message
    return StorageWriteOutcome(storage=storage, tags=applied.tags, changes=applied.changes,
                               correlation_id=applied.correlation_id, failed_parts=applied.failed,
                               refresh_error=refresh_error or applied.tags_error)


def _record_safely(**kwargs) -> None:
    """Outcomes after the fact: the write already happened (or never will), so a failing audit store
    must not turn it into an error page. The attempt row, written first, already leaves a trace."""
    try:
        audit.record(**kwargs)
    except audit.AuditUnavailable:
        logger.exception("Could not record the audit outcome %s", kwargs.get("outcome"))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
