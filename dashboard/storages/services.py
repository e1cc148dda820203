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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.views.decorators.debug import sensitive_variables

from dashboard.accounts.actor import Actor
from dashboard.audit import log as audit
from dashboard.audit import refusals
from dashboard.audit.log import Action, FieldChange, Outcome
from dashboard.zstack.client import get_client, new_job_uuid
from dashboard.zstack.errors import OutcomeUnknown, ResourceNotFound, ZStackError
from dashboard.zstack.inventory import BackupStorage, ResourceTags, WriteResult

from .changes import (
    TAG_FIELDS, Conflict, edited_fields, editable_values, find_conflicts, storage_diff, tag_texts,
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
class _Done:
    """One upstream job that took effect: recorded as its own SUCCEEDED row, under its own job uuid."""

    correlation_id: str
    changes: tuple[FieldChange, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class _Applied:
    """What one audited write did upstream (internal to this module)."""

    correlation_id: str  # the first job that took effect (the caller's reference)
    inventory: BackupStorage | None
    done: tuple[_Done, ...]  # what took effect, job by job
    tags: ResourceTags | None = None
    failed: tuple[PartFailed, ...] = ()
    tags_error: str | None = None

    @classmethod
    def of(cls, result: WriteResult, changes: tuple[FieldChange, ...] = ()) -> _Applied:
        return cls(correlation_id=result.job_uuid, inventory=result.inventory, done=(_Done(result.job_uuid, changes),))

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        """What took effect, one entry per field (a tag field's added and removed tags together)."""
        merged: dict[str, FieldChange] = {}
        for change in (change for done in self.done for change in done.changes):
            if (earlier := merged.get(change.field)) is not None:
                change = replace(earlier, added=earlier.added + change.added, removed=earlier.removed + change.removed)
            merged[change.field] = change
        return tuple(merged.values())


@dataclass(frozen=True, slots=True)
class _TagSync:
    """What the tag part of an edit did (internal): each removed tag with its DeleteTag's job uuid, the
    added tags ZStack stored, the parts that did not take effect, and the tags as re-read."""

    tags: ResourceTags | None  # None: the re-read failed (``tags_error``)
    removed: tuple[tuple[str, str, str], ...]  # (field, tag text, job uuid)
    added: dict[str, tuple[str, ...]]  # field -> the added tags ZStack stored
    failed: tuple[PartFailed, ...]
    tags_error: str | None = None


# --- the writes --------------------------------------------------------------------------------


# A debug error page shows each frame's variables: the submitted password stays hidden (changes, password).
@sensitive_variables("changes", "password")
def storage_update(*, actor: Actor, uuid: str, changes: dict[str, Any],
                   loaded: dict[str, Any] | None = None) -> StorageWriteOutcome:
    """Apply the user's edits. ``changes``: API field name -> value (password included, blank keeps it;
    absent fields are kept); ``loaded``: the editable values when the form was loaded (its signed
    snapshot), or None without a form (a command, a task): then the given values are the intent.

    The user's edits are the fields that differ from ``loaded`` (without it, from ZStack's current
    values); only those are sent, and only where ZStack does not already hold the value, so what someone
    else changed in other fields is kept. With a snapshot, an edited field that someone else changed
    meanwhile to another value is a conflict: nothing is sent.
    Added tags go in the update itself, removed tags are deleted by their Tag uuid.
    """
    client = get_client()
    current, tags = client.get_image_store(uuid), client.get_tags(uuid)
    now = editable_values(current, tags)
    edited = edited_fields(now if loaded is None else loaded, changes)
    password = changes.get("password") or None
    diff = storage_diff(current, tags, {**edited, "password": password})
    conflicts = () if loaded is None else find_conflicts(loaded=loaded, now=now, edited=edited)
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
    """The upstream calls of one edit, each a job of its own (the first under ``job_uuid``, the attempt's
    correlation id): the update (changed fields, added tags at the top level), then the tag sync.
    Raises only if nothing took effect."""
    jobs = _job_uuids(job_uuid)
    plain = tuple(c for c in diff if c.field not in TAG_FIELDS)  # the password as "changed" only
    tag_changes = tuple(c for c in diff if c.field in TAG_FIELDS)
    added = {c.field: c.added for c in tag_changes if c.added}
    update = None
    if plain or added:
        values = {c.field: c.after for c in plain}
        update = client.update_image_store(
            current.uuid, job_uuid=next(jobs), name=values.get("name"), description=values.get("description"),
            hostname=values.get("hostname"), username=values.get("username"),
            password=password if "password" in values else None, ssh_port=values.get("sshPort"),
            system_tags=added.get("systemTags"), user_tags=added.get("userTags"),
        )
    sync = _sync_tags(client, current.uuid, tags, tag_changes, jobs, update.job_uuid if update else None)
    done = [_Done(job, (FieldChange(field=f, removed=(text,)),)) for f, text, job in sync.removed]
    if update is not None:
        updated = plain + tuple(FieldChange(field=f, added=sync.added[f]) for f in added if sync.added[f])
        note = f"The added tags could not be checked: {sync.tags_error}" if added and sync.tags_error else None
        if updated:  # else it carried only added tags, none stored: a failed part, no success
            done.insert(0, _Done(update.job_uuid, updated, note))
    return _Applied(correlation_id=update.job_uuid if update else sync.removed[0][2],
                    inventory=update.inventory if update else current,  # DeleteTag leaves it as it was
                    done=tuple(done), tags=sync.tags, failed=sync.failed, tags_error=sync.tags_error)


def _sync_tags(client, uuid: str, tags: ResourceTags, tag_changes: tuple[FieldChange, ...],
               jobs: Iterator[str], update_job: str | None) -> _TagSync:
    """After the update (``update_job``, None if none was sent), which carried the added tags: one
    DeleteTag per removed tag, by its Tag uuid, each under the next job uuid and each tried even if
    another failed (they are independent); then the tags re-read, as ZStack may accept added tags on
    an update without storing them (zstack-api.md §4.2). Raises if nothing took effect at all."""
    if not tag_changes:
        return _TagSync(tags=tags, removed=(), added={}, failed=())
    uuids = {"systemTags": {t.tag: t.uuid for t in tags.system}, "userTags": {t.tag: t.uuid for t in tags.user}}
    removed: list[tuple[str, str, str]] = []
    failed: list[PartFailed] = []
    errors: list[ZStackError] = []
    for change in tag_changes:
        for text in change.removed:
            job_uuid = next(jobs)
            try:
                removed.append((change.field, text, client.delete_tag(uuids[change.field][text],
                                                                      job_uuid=job_uuid).job_uuid))
            except ZStackError as error:
                errors.append(error)
                failed.append(PartFailed(field=change.field, tags=(text,), kind="not-removed", code=error.code,
                                         message=error.user_message, correlation_id=error.job_uuid or job_uuid,
                                         outcome_unknown=isinstance(error, OutcomeUnknown)))
    if update_job is None and not removed:
        raise errors[0]  # nothing took effect: the whole write failed
    try:
        fresh, tags_error = client.get_tags(uuid), None
    except ZStackError as error:  # only a note: the write took effect
        fresh, tags_error = None, error.user_message
    added = {}
    for change in tag_changes:
        missing = () if fresh is None else tuple(t for t in change.added if t not in tag_texts(fresh, change.field))
        if missing:
            failed.append(PartFailed(field=change.field, tags=missing, kind="not-stored", code=TAGS_NOT_STORED,
                                     message="", correlation_id=update_job))
        added[change.field] = tuple(t for t in change.added if t not in missing)
    return _TagSync(tags=fresh, removed=tuple(removed), added=added, failed=tuple(failed), tags_error=tags_error)


def _job_uuids(first: str) -> Iterator[str]:
    """The X-Job-UUIDs of one write's calls: ``first`` (recorded in the attempt), then a new one per
    call, as ZStack rejects a reused one (zstack-api.md §1)."""
    yield first
    while True:
        yield new_job_uuid()


def write_refused(*, actor: Actor, action: Action, uuid: str) -> bool:
    """A write the actor's role does not allow: recorded within the actor's per-minute bounds (audit.refusals,
    which may look the storage up, a bounded number of times). True: answer 403; False: answer 429."""
    return refusals.record_refusal(actor=actor, action=action, storage_uuid=uuid,
                                   storage_exists=lambda: _storage_exists(uuid))


def _storage_exists(uuid: str) -> bool:
    try:
        get_client().get_image_store(uuid)
    except ResourceNotFound:
        return False
    except ZStackError:
        return True  # can't tell: record the refusal rather than lose it
    return True


def storage_update_invalid(*, actor: Actor, uuid: str, errors: dict[str, list[str]], storage_name: str = "") -> None:
    """An edit rejected by validation: recorded, never sent. ``errors`` maps field -> messages
    (messages about the password are kept, its value never is: the form does not carry it here);
    ``storage_name``: the name the form was loaded with (no upstream read for a rejected edit)."""
    summary = "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())
    _record_safely(actor=actor, action=Action.UPDATE, storage_uuid=uuid, storage_name=storage_name,
                   outcome=Outcome.INVALID, changes=[], error_message=summary[:2000])


# --- helpers -----------------------------------------------------------------------------------


def _audited_write(actor: Actor, action: Action, current: BackupStorage, changes, call) -> _Applied:
    """Record the attempt, run ``call(job_uuid)``, record the outcome: one SUCCEEDED row per job that
    took effect and one FAILED (or TIMED_OUT) row per part that did not, each literally true and linked
    to the attempt. If nothing took effect, the error is recorded and raised as WriteFailed."""
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
    for done in applied.done:
        _record_safely(**row, outcome=Outcome.SUCCEEDED, changes=list(done.changes),
                       correlation_id=done.correlation_id, duration_ms=duration_ms, error_message=done.note)
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
