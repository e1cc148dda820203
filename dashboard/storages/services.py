"""Writes (HackSoftware style): every change to a storage goes through here, whoever asks (a view, a
command, a task), so every write is reserved, audited and followed alike.

A write: reserve its submission token (a second POST with the token gets the first one's progress or
result, never a second write); read the storage and compute the change; plan one ZStack job per part
(the update's changed fields, each tag to add, each tag to remove, or the action), each with its
X-Job-UUID chosen now; record one attempt row; then follow the jobs (follow.py) for the web request's
short wait, and hand whatever still runs to the background worker, which records the one outcome row.
Writes that never reach ZStack (refused, invalid, stale, nothing to change) are recorded here too.

Tags are added with CreateSystemTag / CreateUserTag and removed with DeleteTag: ZStack's core drops tags
given on an update (docs/zstack-protocol.md, "Tags"), so the update carries only the changed fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from dashboard.accounts.actor import Actor
from dashboard.audit import log as audit
from dashboard.audit import messages as audit_messages
from dashboard.audit import refusals
from dashboard.audit.log import Action, FieldChange, Outcome, change_to_json
from dashboard.zstack.client import new_job_uuid
from dashboard.zstack.errors import ResourceNotFound, ZStackError
from dashboard.zstack.inventory import BackupStorage, ResourceTags

from . import follow, selectors, submissions, tasks
from .changes import PLAIN_FIELDS, TAG_FIELDS, Conflict, editable_values, edited_fields, find_conflicts, storage_diff
from .models import Submission
from .submissions import Part, PartState
from .zstack_client import get_client

logger = logging.getLogger(__name__)
DEFAULT_TAG_RESOURCE_TYPE = "BackupStorageVO"  # what ZStack itself uses for backup-storage tags


# --- what callers get and can catch ------------------------------------------------------------


class StorageWriteError(Exception):
    """Base of the service's errors."""


class StaleForm(StorageWriteError):
    """Someone else changed fields the user edited since the form was loaded; nothing was written.
    ``current_values``: ZStack's editable values now (the re-rendered form's fresh snapshot)."""

    def __init__(self, *, current_values: dict[str, Any], conflicts: tuple[Conflict, ...]):
        super().__init__("stale form")
        self.current_values = current_values
        self.conflicts = conflicts


class AuditUnavailable(StorageWriteError):
    """The attempt could not be recorded, so ZStack was not called."""


class SubmissionBusy(StorageWriteError):
    """The same form is being submitted by another request right now; this one sent nothing."""


@dataclass(frozen=True, slots=True)
class WriteProgress:
    """Where a write stands. ``submission`` None: nothing to change, nothing sent. ``replayed``: the
    token had been used before; this is that first submission, and nothing was sent now."""

    submission: Submission | None
    storage: BackupStorage | None = None  # ZStack's values read by this write, when it read them
    tags: ResourceTags | None = None
    replayed: bool = False

    @property
    def running(self) -> bool:
        return self.submission is not None and self.submission.running

    @property
    def parts(self) -> list[Part]:
        return submissions.parts_of(self.submission) if self.submission else []

    @property
    def correlation_id(self) -> str | None:
        parts = self.parts
        return parts[0].job if parts else None

    @property
    def done_parts(self) -> list[Part]:
        return [part for part in self.parts if part.state == PartState.SUCCEEDED]

    @property
    def failed_parts(self) -> list[Part]:
        return [part for part in self.parts if part.state in (PartState.FAILED, PartState.UNKNOWN)]

    @property
    def changed(self) -> bool:
        return bool(self.done_parts)

    @property
    def freed_bytes(self) -> int | None:
        """What a reclaim freed, once its job succeeded and said so; None otherwise."""
        freed = [part.result["freed_bytes"] for part in self.done_parts if "freed_bytes" in part.result]
        return sum(freed) if freed else None

    @property
    def unconfirmed(self) -> bool:
        """Some part's outcome is unknown: ZStack may still complete it."""
        return any(part.state == PartState.UNKNOWN for part in self.parts)


# --- the writes --------------------------------------------------------------------------------


# A debug error page shows each frame's variables: the submitted password stays hidden (changes, password).
@sensitive_variables("changes", "password")
def storage_update(
    *, actor: Actor, uuid: str, changes: dict[str, Any], loaded: dict[str, Any] | None = None, nonce: str | None = None
) -> WriteProgress:
    """Apply the user's edits. ``changes``: API field name -> value (password included, blank keeps it;
    absent fields are kept); ``loaded``: the editable values when the form was loaded (its signed
    snapshot), or None without a form (a command, a task): then the given values are the intent;
    ``nonce``: the form's submission token (None: a new submission).

    The user's edits are the fields that differ from ``loaded`` (without it, from ZStack's current
    values); only those are sent, and only where ZStack does not already hold the value, so what someone
    else changed in other fields is kept. With a snapshot, an edited field that someone else changed
    meanwhile to another value is a conflict: nothing is sent.
    """
    submission, first = _reserve(nonce, actor, uuid, Action.UPDATE)
    if not first:
        return WriteProgress(submission, replayed=True)
    password = changes.get("password") or None
    with _released_unless_planned(submission):
        current, tags = selectors.storage_for_edit(uuid=uuid)  # the storage and its tags, read at once
        now = editable_values(current, tags)
        edited = edited_fields(now if loaded is None else loaded, changes)
        diff = storage_diff(current, tags, {**edited, "password": password})
        conflicts = () if loaded is None else find_conflicts(loaded=loaded, now=now, edited=edited)
        if conflicts:
            audit.record_safely(
                actor=actor,
                action=Action.UPDATE,
                storage_uuid=uuid,
                storage_name=current.name or "",
                outcome=Outcome.CONFLICT,
                changes=list(diff),
                error_code=audit_messages.CONFLICT,
                error_message=audit_messages.params_json(fields=[c.field for c in conflicts]),
            )
            raise StaleForm(current_values=now, conflicts=conflicts)
        if not diff:
            return WriteProgress(None, storage=current, tags=tags)
        _plan(submission, actor, Action.UPDATE, current, diff, _update_parts(current, tags, diff, password))
    return _run(submission, current, tags, secrets={"password": password} if password else None)


def storage_reconnect(*, actor: Actor, uuid: str, nonce: str | None = None) -> WriteProgress:
    return _action(actor, uuid, nonce, Action.RECONNECT, "reconnect", lambda current: ())


def storage_set_state(*, actor: Actor, uuid: str, enabled: bool, nonce: str | None = None) -> WriteProgress:
    action, kind, after = (Action.ENABLE, "enable", "Enabled") if enabled else (Action.DISABLE, "disable", "Disabled")
    return _action(
        actor,
        uuid,
        nonce,
        action,
        kind,
        lambda current: (FieldChange(field="state", before=current.state, after=after),),
    )


def storage_reclaim_space(*, actor: Actor, uuid: str, nonce: str | None = None) -> WriteProgress:
    """ImageStore garbage collection (docs/zstack-protocol.md §4.8): one job; what it freed is kept on its
    part (follow.py) for the card and recorded on the audit outcome row."""
    return _action(actor, uuid, nonce, Action.RECLAIM, "reclaim", lambda current: ())


def write_refused(*, actor: Actor, action: Action, uuid: str) -> bool:
    """A write the actor's role does not allow: recorded within the actor's per-minute bounds (audit.refusals,
    which may look the storage up, a bounded number of times). True: answer 403; False: answer 429."""
    return refusals.record_refusal(
        actor=actor, action=action, storage_uuid=uuid, storage_exists=lambda: _storage_exists(uuid)
    )


def _storage_exists(uuid: str) -> bool:
    try:
        get_client().get_image_store(uuid)
    except ResourceNotFound:
        return False
    except ZStackError:
        return True  # can't tell: record the refusal rather than lose it
    return True


def storage_update_invalid(*, actor: Actor, uuid: str, errors: Mapping[str, Any], storage_name: str = "") -> None:
    """An edit rejected by validation: recorded, never sent. ``errors``: the form's errors (field ->
    ValidationErrors), stored as codes and parameters so the log reads in each reader's language
    (audit.messages; messages about the password are kept, its value never is: the form does not carry it
    here); ``storage_name``: the name the form was loaded with (no upstream read for a rejected edit)."""
    audit.record_invalid(actor=actor, action=Action.UPDATE, storage_uuid=uuid, errors=errors, storage_name=storage_name)


# --- planning -----------------------------------------------------------------------------------


def _action(
    actor: Actor,
    uuid: str,
    nonce: str | None,
    action: Action,
    kind: str,
    changes_of: Callable[[BackupStorage], Iterable[FieldChange]],
) -> WriteProgress:
    """Reconnect, enable, disable, reclaim space: one job each."""
    submission, first = _reserve(nonce, actor, uuid, action)
    if not first:
        return WriteProgress(submission, replayed=True)
    with _released_unless_planned(submission):
        current = get_client().get_image_store(uuid)
        changes = tuple(changes_of(current))
        part = Part(kind=kind, job=new_job_uuid(), changes=[change_to_json(c) for c in changes])
        _plan(submission, actor, action, current, changes, [part])
    return _run(submission, current, None)


@sensitive_variables("password")
def _update_parts(
    current: BackupStorage, tags: ResourceTags, diff: tuple[FieldChange, ...], password: str | None
) -> list[Part]:
    """One job for the changed fields (the password only as "changed"), one per tag added or removed."""
    parts: list[Part] = []
    plain = [c for c in diff if c.field not in TAG_FIELDS]
    if plain:
        args = {PLAIN_FIELDS[c.field]: c.after for c in plain if c.field != "password"}  # client keyword names
        parts.append(
            Part(
                kind="update",
                job=new_job_uuid(),
                changes=[change_to_json(c) for c in plain],
                args=args,
                secret=password is not None,
            )
        )
    existing = {"systemTags": {t.tag: t for t in tags.system}, "userTags": {t.tag: t for t in tags.user}}
    resource_type = next(
        (t.resource_type for t in (*tags.system, *tags.user) if t.resource_type), DEFAULT_TAG_RESOURCE_TYPE
    )
    for change in (c for c in diff if c.field in TAG_FIELDS):
        for text in change.added:
            parts.append(
                Part(
                    kind="tag-add",
                    job=new_job_uuid(),
                    changes=[change_to_json(FieldChange(field=change.field, added=(text,)))],
                    args={"field": change.field, "tag": text, "resource_type": resource_type},
                )
            )
        for text in change.removed:
            parts.append(
                Part(
                    kind="tag-remove",
                    job=new_job_uuid(),
                    changes=[change_to_json(FieldChange(field=change.field, removed=(text,)))],
                    args={"field": change.field, "tag": text, "tag_uuid": existing[change.field][text].uuid},
                )
            )
    return parts


def _reserve(nonce: str | None, actor: Actor, uuid: str, action: Action) -> tuple[Submission, bool]:
    try:
        return submissions.reserve(nonce or submissions.new_nonce(), actor=actor, uuid=uuid, action=action)
    except submissions.ReservationBusy as busy:
        raise SubmissionBusy(str(busy)) from busy


class _released_unless_planned:
    """Until the plan is saved nothing has been sent: on any error the token is freed again."""

    def __init__(self, submission: Submission) -> None:
        self.submission = submission

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None or self.submission.attempt_sequence is None:
            submissions.release(self.submission)


def _plan(
    submission: Submission,
    actor: Actor,
    action: Action,
    current: BackupStorage,
    changes: tuple[FieldChange, ...],
    parts: list[Part],
) -> None:
    """Record the attempt (if that fails, ZStack is not called) and save the jobs to follow."""
    try:
        attempt = audit.record(
            actor=actor,
            action=action,
            storage_uuid=current.uuid,
            storage_name=current.name or "",
            outcome=Outcome.ATTEMPTED,
            changes=list(changes),
            correlation_id=parts[0].job,
        )
    except audit.AuditUnavailable as error:
        raise AuditUnavailable(str(error)) from error
    submission.storage_name = current.name or ""
    submission.attempt_sequence = attempt.sequence
    submission.changes = [change_to_json(c) for c in changes]
    submission.parts = [part.to_json() for part in parts]
    submission.deadline = timezone.now() + timedelta(seconds=settings.ZSTACK_JOB_DEADLINE)
    submission.save(update_fields=["storage_name", "attempt_sequence", "changes", "parts", "deadline"])


@sensitive_variables("secrets")
def _run(
    submission: Submission, current: BackupStorage, tags: ResourceTags | None, secrets: dict[str, Any] | None = None
) -> WriteProgress:
    """Send the jobs and follow them for the web request's short wait; the worker follows the rest."""
    submission = follow.follow(submission.pk, seconds=settings.CONSOLE_WRITE_WAIT, secrets=secrets)
    if submission.running:
        tasks.hand_to_worker(submission)
        submission.refresh_from_db()
    return WriteProgress(submission, storage=current, tags=tags)
