"""The audit trail's one write function (issue 4): ``record``.

The service layer calls ``record`` twice around every upstream write, and once for writes that never
reach ZStack:

    from dashboard.audit import log as audit

    attempt = audit.record(actor=actor, action=Action.UPDATE, storage_uuid=uuid, storage_name=name,
                           outcome=Outcome.ATTEMPTED, changes=changes, correlation_id=job_uuid)
    ... call ZStack ...
    audit.record(actor=actor, action=Action.UPDATE, storage_uuid=uuid, storage_name=name,
                 outcome=Outcome.SUCCEEDED, changes=changes, correlation_id=result.job_uuid,
                 attempt=attempt, duration_ms=elapsed_ms)           # or FAILED / TIMED_OUT with error_code, error_message

    audit.record(..., outcome=Outcome.CONFLICT | Outcome.REFUSED | Outcome.INVALID, ...)  # no upstream call

``record`` raises ``AuditUnavailable`` if the event cannot be stored; the service must then not call ZStack.

``changes`` is a list of ``FieldChange``: plain fields carry before/after; the SSH password carries only
``changed=True`` (never a value or hash); tag fields carry ``added`` / ``removed`` lists.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from dashboard.accounts.actor import Actor

from . import chain
from .models import AuditEvent

logger = logging.getLogger(__name__)

# Fields whose values are secrets: the trail records only that they changed (never a value or a hash).
SECRET_FIELDS = frozenset({"password"})
TAG_FIELDS = ("systemTags", "userTags")  # the edit's tag fields too (storages/changes.py): lists of texts


class Action(StrEnum):
    UPDATE = "storage.update"
    RECONNECT = "storage.reconnect"
    ENABLE = "storage.enable"
    DISABLE = "storage.disable"
    RECLAIM = "storage.reclaim"  # ImageStore garbage collection; its outcome row records the bytes freed
    # A storage's own capacity thresholds, set or reset to the defaults (dashboard/capacity/services.py): in
    # our database only, no ZStack call.
    THRESHOLDS = "storage.thresholds"
    CHAIN_SEALED = "audit.chain_sealed"  # the trail itself: migration 0004 sealed the chain it found (no storage)
    # Logins (dashboard/accounts/login_audit.py): no storage, so storage_uuid is empty.
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOCKOUT = "auth.lockout"


class Outcome(StrEnum):
    ATTEMPTED = "attempted"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some parts of one submission took effect, others did not (each part says which)
    FAILED = "failed"  # upstream error, with ZStack's code and description
    TIMED_OUT = "timed_out"
    CONFLICT = "conflict"  # stale form: the storage changed since the form was loaded
    REFUSED = "refused"  # permission denied
    INVALID = "invalid"  # rejected by validation, no upstream call
    THROTTLED = "throttled"  # one row for an actor's refused writes past the limit of a minute (refusals.py)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # the API field name: name, description, hostname, username, password, sshPort, systemTags, userTags
    before: object = None
    after: object = None
    changed: bool = True  # the password's only recorded fact
    # dataclasses.field, spelled out: the attribute ``field`` above shadows the bare name in this class body.
    added: tuple[str, ...] = dataclasses.field(default_factory=tuple)  # tags
    removed: tuple[str, ...] = dataclasses.field(default_factory=tuple)  # tags
    # On an outcome row, the ZStack job that made this change and how it ended: "succeeded", "failed" or
    # "timed_out" (outcome unknown), with ZStack's error for the last two.
    job: str | None = None
    result: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class AuditUnavailable(Exception):
    """The audit event could not be stored; the caller must not proceed with the write."""


def record(
    *,
    actor: Actor,
    action: Action,
    storage_uuid: str,
    storage_name: str | None,
    outcome: Outcome,
    changes: Sequence[FieldChange] = (),
    correlation_id: str | None = None,
    attempt: AuditEvent | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    duration_ms: int | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it. Raises ``AuditUnavailable`` if it cannot be stored.

    An outcome row passes the ``attempt`` it concludes: it inherits the attempt's correlation id when none is
    given, and its duration defaults to the time since the attempt.
    """
    action, outcome = Action(action), Outcome(outcome)
    if attempt is not None and (outcome is Outcome.ATTEMPTED or attempt.outcome != Outcome.ATTEMPTED):
        raise ValueError("Only an outcome row links to an attempt, and only to an 'attempted' row.")
    serialised = [change_to_json(c) for c in changes]
    if attempt is not None and correlation_id is None:
        correlation_id = attempt.correlation_id or None
    event = AuditEvent(
        actor_user_id=actor.user_id,
        actor_username=_text(actor.username, 150),
        actor_role=str(actor.role or ""),
        ip=_text(actor.ip, 45),
        user_agent=_text(actor.user_agent, 512),
        action=action.value,
        storage_uuid=_text(storage_uuid, 64),
        storage_name=_text(storage_name, 255),
        outcome=outcome.value,
        changes=serialised,
        changed_fields=_text("".join(f",{c['field']}" for c in serialised) + "," if serialised else "", 512),
        error_code=_text(error_code, 64),
        error_message=_text(error_message, 4000),
        correlation_id=_text(correlation_id, 64),
        duration_ms=None if duration_ms is None else max(0, int(duration_ms)),
        attempt=attempt,
    )

    def now():
        stamp = timezone.now()
        if attempt is not None and event.duration_ms is None:
            event.duration_ms = max(0, int((stamp - attempt.timestamp).total_seconds() * 1000))
        return stamp

    try:
        return chain.append(event, now=now)
    except DatabaseError as exc:
        # The exception names the table and constraint only: never the row's values.
        logger.error(
            "audit event could not be stored (%s %s %s): %s", action, storage_uuid, outcome, type(exc).__name__
        )
        raise AuditUnavailable(f"The audit trail could not store the {action} event.") from exc


def record_safely(**kwargs: Any) -> AuditEvent | None:
    """``record`` for a row whose change is already made (or refused, or never sent): a failing audit store is
    logged, not turned into an error page. The attempt row, recorded before anything is sent, is what
    guarantees a change is never unaudited; None when the row could not be stored."""
    try:
        return record(**kwargs)
    except AuditUnavailable:
        logger.exception("Could not record the audit outcome %s", kwargs.get("outcome"))
        return None


def record_invalid(
    *, actor: Actor, action: Action, storage_uuid: str, errors: Mapping[str, Any], storage_name: str = ""
) -> None:
    """A form rejected by validation: recorded, nothing changed or sent. ``errors``: the form's errors (field ->
    ValidationErrors), stored as codes and parameters (messages.invalid_params) so the log reads in each
    reader's language; never a submitted value."""
    from . import messages  # messages imports this module (SECRET_FIELDS)

    record_safely(
        actor=actor,
        action=action,
        storage_uuid=storage_uuid,
        storage_name=storage_name,
        outcome=Outcome.INVALID,
        error_code=messages.INVALID,
        error_message=messages.invalid_params(errors),
    )


def change_to_json(change: FieldChange) -> dict:
    """The stored form of one change. A secret keeps only ``changed``, whatever the caller put in it."""
    name = _text(change.field, 64)
    if name in SECRET_FIELDS:
        stored = {"field": name, "changed": bool(change.changed)}
    elif name in TAG_FIELDS or change.added or change.removed:
        stored = {
            "field": name,
            "added": [_jsonable(t) for t in change.added],
            "removed": [_jsonable(t) for t in change.removed],
        }
    else:
        stored = {"field": name, "before": _jsonable(change.before), "after": _jsonable(change.after)}
    if change.result:
        stored.update(job=_text(change.job, 64), result=_text(change.result, 16))
        if change.error_code or change.error_message:
            stored.update(error_code=_text(change.error_code, 64), error=_text(change.error_message, 2000))
    return stored


def change_from_json(stored: dict) -> FieldChange:
    """The inverse of change_to_json, for a change kept between the attempt and its outcome."""
    return FieldChange(
        field=stored["field"],
        before=stored.get("before"),
        after=stored.get("after"),
        changed=bool(stored.get("changed", True)),
        added=tuple(stored.get("added") or ()),
        removed=tuple(stored.get("removed") or ()),
        job=stored.get("job"),
        result=stored.get("result"),
        error_code=stored.get("error_code"),
        error_message=stored.get("error"),
    )


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return _text(str(value), 10_000)


def _text(value: object, limit: int) -> str:
    """Text as PostgreSQL and SQLite both store it: NUL replaced, cut to the column's length."""
    if value is None:
        return ""
    return str(value).replace("\x00", "\ufffd")[:limit]
