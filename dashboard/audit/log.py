"""CONTRACT SKELETON for the audit trail's one write function (issue 4). Bodies to implement.

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

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    UPDATE = "storage.update"
    RECONNECT = "storage.reconnect"
    ENABLE = "storage.enable"
    DISABLE = "storage.disable"


class Outcome(StrEnum):
    ATTEMPTED = "attempted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # upstream error, with ZStack's code and description
    TIMED_OUT = "timed_out"
    CONFLICT = "conflict"  # stale form: the storage changed since the form was loaded
    REFUSED = "refused"  # permission denied
    INVALID = "invalid"  # rejected by validation, no upstream call


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # the API field name: name, description, hostname, username, password, sshPort, systemTags, userTags
    before: object = None
    after: object = None
    changed: bool = True  # the password's only recorded fact
    added: tuple[str, ...] = field(default_factory=tuple)  # tags
    removed: tuple[str, ...] = field(default_factory=tuple)  # tags


class AuditUnavailable(Exception):
    """The audit event could not be stored; the caller must not proceed with the write."""
